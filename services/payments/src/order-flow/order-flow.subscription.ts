import { InventoryReserved, MessageCatalog, OrderTimedOut } from '@am/contracts';
import { ORDER_FLOW_HANDLERS, Queues, defineSubscription } from '@am/messaging';

/** Payments' queue on the choreographed flow (`order-flow`): the events it reacts to (`ORDER_FLOW_REACTIONS`). */
export const paymentsOrderFlowSubscription = {
  subscription: defineSubscription({
    queue: Queues.paymentsOrderFlow,
    prefetch: 50,
    batch: { maxSize: 50 },
    handlerPrefix: ORDER_FLOW_HANDLERS,
  }),
  catalog: new MessageCatalog([InventoryReserved, OrderTimedOut]),
};
