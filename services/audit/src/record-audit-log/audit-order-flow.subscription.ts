import { MessageCatalog, inventoryReplies, orderFlowEvents, paymentReplies } from '@am/contracts';
import { Queues, defineSubscription } from '@am/messaging';

/**
 * The audit service's wire-tap of the choreographed order flow (`audit-order-flow`, bound to `order-flow` with
 * `#`): a copy of every event of the flow, so that a choreographed order's trail and story are complete. The
 * inventory and payments events are recorded by the saga wire-tap's handlers (`append` keeps the source).
 */
export const auditOrderFlowSubscription = {
  subscription: defineSubscription({ queue: Queues.auditOrderFlow, prefetch: 50, batch: { maxSize: 50 } }),
  catalog: new MessageCatalog([...orderFlowEvents, ...inventoryReplies, ...paymentReplies]),
};
