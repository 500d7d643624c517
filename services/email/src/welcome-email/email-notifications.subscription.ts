import { MessageCatalog, userEvents } from '@am/contracts';
import { Queues, defineSubscription } from '@am/messaging';

/**
 * Email's own queue on the `user-events` fanout (the article's `startEmailSubscriber`). A failed SMTP send is
 * retried through the delayed retry queues (1 s, 5 s, 25 s by default), then the message goes to
 * `email-notifications-dlq`. A small prefetch, because each message in flight holds a database connection for
 * the length of its SMTP conversation.
 */
export const emailNotificationsSubscription = {
  subscription: defineSubscription({ queue: Queues.emailNotifications, prefetch: 5 }),
  catalog: new MessageCatalog([...userEvents]),
};
