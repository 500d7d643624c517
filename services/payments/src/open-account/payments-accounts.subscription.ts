import { MessageCatalog, userEvents } from '@am/contracts';
import { Queues, defineSubscription } from '@am/messaging';

/**
 * Payments' own queue on the `user-events` fanout: a new subscriber that the producer (orders) knows nothing
 * about (pattern: publish/subscribe).
 */
export const paymentsAccountsSubscription = {
  subscription: defineSubscription({ queue: Queues.paymentsAccounts, prefetch: 20 }),
  catalog: new MessageCatalog([...userEvents]),
};
