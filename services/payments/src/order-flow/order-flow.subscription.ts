import { InventoryReserved, MessageCatalog, OrderTimedOut } from '@am/contracts';
import { Queues, defineOrderFlowSubscription } from '@am/messaging';

/** Payments' queue on the choreographed flow (`order-flow`): the events it reacts to (`ORDER_FLOW_REACTIONS`). */
export const paymentsOrderFlowSubscription = {
  subscription: defineOrderFlowSubscription(Queues.paymentsOrderFlow),
  catalog: new MessageCatalog([InventoryReserved, OrderTimedOut]),
};
