import { MessageCatalog, PlaceOrder } from '@am/contracts';
import { Queues, defineSubscription } from '@am/messaging';

/** The load-leveling queue: the workers take at most `prefetch` orders at a time, whatever the arrival rate. */
export const orderProcessingSubscription = {
  subscription: defineSubscription({
    queue: Queues.orderProcessing,
    prefetch: Number(process.env.ORDER_PROCESSING_PREFETCH ?? 10),
  }),
  catalog: new MessageCatalog([PlaceOrder]),
};
