import { main } from '@am/messaging';
import { inventoryService } from './inventory.service.js';

main(inventoryService);
