import { MessageCatalog, inventoryReplies, paymentReplies, sagaCommands } from '@am/contracts';
import { Queues, defineSubscription } from '@am/messaging';

/**
 * The audit service's wire-tap of the order saga (`audit-saga`): a copy of every command on `saga-commands` and of
 * every reply on `saga-replies`. As many in flight and per transaction as the orchestrator's own reply queue, so
 * the audit trail keeps up with the saga it records.
 */
export const auditSagaSubscription = {
  subscription: defineSubscription({ queue: Queues.auditSaga, prefetch: 50, batch: { maxSize: 50 } }),
  catalog: new MessageCatalog([...sagaCommands, ...inventoryReplies, ...paymentReplies]),
};
