import { MessageCatalog, inventoryReplies, paymentReplies } from '@am/contracts';
import { Queues, defineSubscription } from '@am/messaging';

/** The orchestrator's reply queue, bound to `saga-replies`: every participant answers here. */
export const sagaRepliesSubscription = {
  subscription: defineSubscription({ queue: Queues.sagaReplies, prefetch: 50, batch: { maxSize: 50 } }),
  catalog: new MessageCatalog([...inventoryReplies, ...paymentReplies]),
};
