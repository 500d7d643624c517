import { MessageCatalog, userEvents } from '@am/contracts';
import { Queues, defineSubscription } from '@am/messaging';

/** The audit service's own queue on the `user-events` fanout: every user event gets a copy here. */
export const auditLogSubscription = {
  subscription: defineSubscription({ queue: Queues.auditLog, prefetch: 20 }),
  catalog: new MessageCatalog([...userEvents]),
};
