import { MessageCatalog, ReserveInventory } from '@am/contracts';
import { Queues, defineSubscription } from '@am/messaging';

/**
 * The saga's `inventory.reserve` commands. Reservations of the same SKUs queue up on its stock row lock, so
 * a larger prefetch buys little; retries and the dead letter queue are the library's defaults.
 */
export const inventoryReserveSubscription = {
  subscription: defineSubscription({ queue: Queues.inventoryReserve, prefetch: 10 }),
  catalog: new MessageCatalog([ReserveInventory]),
};
