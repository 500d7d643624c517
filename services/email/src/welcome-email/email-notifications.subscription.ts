import { MessageCatalog, userEvents } from '@am/contracts';
import { Queues, defineSubscription } from '@am/messaging';

/**
 * Email's own queue on the `user-events` fanout (the article's `startEmailSubscriber`). Its handler only writes
 * to the database (the recipient and the outbox row of the welcome job), so a failure here is a database one;
 * SMTP failures are retried in the mail lanes. Retried through the delayed retry queues (1 s, 5 s, 25 s by
 * default), then the message goes to `email-notifications-dlq`.
 */
export const emailNotificationsSubscription = {
  subscription: defineSubscription({ queue: Queues.emailNotifications, prefetch: 5 }),
  catalog: new MessageCatalog([...userEvents]),
};
