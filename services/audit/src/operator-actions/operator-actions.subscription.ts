import { MessageCatalog, operatorEvents } from '@am/contracts';
import { Queues, defineSubscription } from '@am/messaging';

/** Audit's queue on `operator-actions`: every service's record of what an operator did to it. */
export const operatorActionsSubscription = {
  subscription: defineSubscription({ queue: Queues.auditOperatorActions, prefetch: 10 }),
  catalog: new MessageCatalog([...operatorEvents]),
};
