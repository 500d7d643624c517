import { MessageCatalog, ReserveInventory } from '@am/contracts';
import { Queues, defineSubscription } from '@am/messaging';

/**
 * The saga's `inventory.reserve` commands, handled in batches of up to 50 in one transaction, one batch at a time
 * (two batches at once would take the same stock rows in different orders and deadlock); retries and the dead
 * letter queue are the library's defaults.
 */
export const inventoryReserveSubscription = {
  subscription: defineSubscription({ queue: Queues.inventoryReserve, prefetch: 50, batch: { maxSize: 50 } }),
  catalog: new MessageCatalog([ReserveInventory]),
};
