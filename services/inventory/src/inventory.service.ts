import { MessagingTables1764400000000 } from '@am/persistence';
import type { ServiceDefinition } from '@am/messaging';
import { InventoryModule } from './inventory.module.js';

export const inventoryService: ServiceDefinition = {
  service: 'inventory',
  imports: [InventoryModule],
  migrations: [MessagingTables1764400000000],
};
