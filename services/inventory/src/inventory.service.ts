import type { ServiceDefinition } from '@am/messaging';
import { checkStock } from './check-stock/check-stock.handler.js';
import { inventoryQueriesResponder } from './check-stock/inventory-queries.responder.js';
import { InventoryModule } from './inventory.module.js';
import { migrations } from './migrations/index.js';
import { inventoryOrderFlowSubscription } from './order-flow/order-flow.subscription.js';
import { inventoryReleaseSubscription } from './release-stock/inventory-release.subscription.js';
import { inventoryReserveSubscription } from './reserve-stock/inventory-reserve.subscription.js';

/**
 * The inventory service: stock levels over HTTP, the saga's reserve step and its compensation, its reactions on the
 * choreographed order flow, and the answers to orders' stock queries (request/reply).
 */
export const inventoryService: ServiceDefinition = {
  service: 'inventory',
  imports: [InventoryModule],
  migrations,
  amqp: [inventoryReserveSubscription, inventoryReleaseSubscription, inventoryOrderFlowSubscription],
  responders: [{ responder: inventoryQueriesResponder, answer: checkStock }],
};
