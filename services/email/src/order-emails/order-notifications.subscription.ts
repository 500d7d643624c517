import { MessageCatalog, orderEvents } from '@am/contracts';
import { Topics, defineKafkaSubscription } from '@am/messaging';

/**
 * Consumer group `order-notifications` on `order-events`: a subscriber of its own beside `analytics` and
 * `audit`, each group reading every record (pattern: publish/subscribe with consumer groups). It starts at the
 * end of the log, not at offset 0 like analytics: a notification is news, and a new deployment must not mail
 * customers about every order in the topic's history. A failing record is retried in place (200 ms, 1 s, 3 s)
 * and then goes to `order-events.dlt`; the partition moves on.
 */
export const orderNotificationsSubscription = {
  subscription: defineKafkaSubscription({
    topic: Topics.orderEvents,
    groupId: 'order-notifications',
    fromBeginning: false,
  }),
  catalog: new MessageCatalog([...orderEvents]),
};
