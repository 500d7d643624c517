import type { ServiceDefinition } from '@am/messaging';
import { InventoryModule } from './inventory.module.js';
import { migrations } from './migrations/index.js';
import { inventoryReleaseSubscription } from './release-stock/inventory-release.subscription.js';
import { inventoryReserveSubscription } from './reserve-stock/inventory-reserve.subscription.js';

/** The inventory service: stock levels over HTTP, and the saga's reserve step and its compensation. */
export const inventoryService: ServiceDefinition = {
  service: 'inventory',
  imports: [InventoryModule],
  migrations,
  amqp: [inventoryReserveSubscription, inventoryReleaseSubscription],
};
