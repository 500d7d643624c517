import { MessageCatalog, RefundPayment } from '@am/contracts';
import { Queues, defineSubscription } from '@am/messaging';

/** The saga's `payment.refund` compensations, from the `saga-commands` exchange. */
export const paymentRefundSubscription = {
  subscription: defineSubscription({ queue: Queues.paymentRefund, prefetch: 10, batch: { maxSize: 10 } }),
  catalog: new MessageCatalog([RefundPayment]),
};
