import { MessageCatalog, ReleaseInventory } from '@am/contracts';
import { Queues, defineSubscription } from '@am/messaging';

/** The saga's `inventory.release` compensations; retries and the dead letter queue are the library's defaults. */
export const inventoryReleaseSubscription = {
  subscription: defineSubscription({ queue: Queues.inventoryRelease, prefetch: 10, batch: { maxSize: 10 } }),
  catalog: new MessageCatalog([ReleaseInventory]),
};
