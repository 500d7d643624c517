import { MessageCatalog, PlaceOrder } from '@am/contracts';
import { Queues, defineSubscription } from '@am/messaging';

const maxPerSecond = process.env.ORDER_PROCESSING_MAX_PER_SECOND;
const prefetch = Number(process.env.ORDER_PROCESSING_PREFETCH ?? 50);

/**
 * The load-leveling queue: the workers take at most `prefetch` orders at a time, and, when
 * `ORDER_PROCESSING_MAX_PER_SECOND` is set, at most that many per second (the capacity knob of the
 * load-leveling experiment), whatever the arrival rate.
 */
export const orderProcessingSubscription = {
  subscription: defineSubscription({
    queue: Queues.orderProcessing,
    prefetch,
    batch: { maxSize: prefetch },
    ...(maxPerSecond ? { maxPerSecond: Number(maxPerSecond) } : {}),
  }),
  catalog: new MessageCatalog([PlaceOrder]),
};
