import { MessageCatalog, ProcessPayment } from '@am/contracts';
import { Queues, defineSubscription } from '@am/messaging';

/** The saga's `payment.process` commands, from the `saga-commands` exchange. */
export const paymentProcessSubscription = {
  subscription: defineSubscription({ queue: Queues.paymentProcess, prefetch: 50, batch: { maxSize: 50 } }),
  catalog: new MessageCatalog([ProcessPayment]),
};
