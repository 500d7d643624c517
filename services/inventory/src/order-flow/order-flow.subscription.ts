import { MessageCatalog, OrderPlaced, OrderTimedOut, PaymentFailed } from '@am/contracts';
import { ORDER_FLOW_HANDLERS, Queues, defineSubscription } from '@am/messaging';

/**
 * Inventory's queue on the choreographed flow (`order-flow`): the events it reacts to (`ORDER_FLOW_REACTIONS`),
 * in batches like the saga's reserve queue, one batch at a time (two would take the same stock rows in
 * different orders and deadlock); retries and the dead letter queue are the library's defaults.
 */
export const inventoryOrderFlowSubscription = {
  subscription: defineSubscription({
    queue: Queues.inventoryOrderFlow,
    prefetch: 50,
    batch: { maxSize: 50 },
    handlerPrefix: ORDER_FLOW_HANDLERS,
  }),
  catalog: new MessageCatalog([OrderPlaced, PaymentFailed, OrderTimedOut]),
};
