import { MessageCatalog, OrderPlaced, OrderTimedOut, PaymentFailed } from '@am/contracts';
import { Queues, defineOrderFlowSubscription } from '@am/messaging';

/**
 * Inventory's queue on the choreographed flow (`order-flow`): the events it reacts to (`ORDER_FLOW_REACTIONS`),
 * in batches like the saga's reserve queue, one batch at a time (two would take the same stock rows in
 * different orders and deadlock); retries and the dead letter queue are the library's defaults.
 */
export const inventoryOrderFlowSubscription = {
  subscription: defineOrderFlowSubscription(Queues.inventoryOrderFlow),
  catalog: new MessageCatalog([OrderPlaced, PaymentFailed, OrderTimedOut]),
};
