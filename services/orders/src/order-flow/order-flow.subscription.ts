import { InventoryReservationFailed, MessageCatalog, PaymentCompleted, PaymentFailed } from '@am/contracts';
import { Queues, defineOrderFlowSubscription } from '@am/messaging';

/**
 * Orders' queue on the choreographed flow (`order-flow`): the events that end an order (`ORDER_FLOW_REACTIONS`).
 * The same types reach the saga on `order-saga-replies`; the handler prefix keeps the two meanings apart.
 */
export const ordersOrderFlowSubscription = {
  subscription: defineOrderFlowSubscription(Queues.ordersOrderFlow),
  catalog: new MessageCatalog([InventoryReservationFailed, PaymentCompleted, PaymentFailed]),
};
