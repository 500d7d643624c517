import { main } from '@am/messaging';
import { ordersService } from './orders.service.js';

main(ordersService);
