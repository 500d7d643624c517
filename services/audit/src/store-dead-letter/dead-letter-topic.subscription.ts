import { DEAD_LETTER_STORE_GROUP, Topics, defineKafkaSubscription } from '@am/messaging';

/**
 * Consumer group `audit-dead-letters` on `order-events.dlt`, from offset 0: every Kafka dead letter, of every group,
 * goes to the same store as the dead letter queues' (inspect, replay). Raw, like the queues' store: a dead letter
 * need not be a valid envelope. The end of the line: a record that cannot be stored is not dead-lettered again but
 * tried again until it is (`deadLetter: false`); an outage of the database waits with the service's breaker.
 */
export const deadLetterTopicSubscription = defineKafkaSubscription({
  topic: Topics.orderEventsDeadLetters,
  groupId: DEAD_LETTER_STORE_GROUP,
  fromBeginning: true,
  retryDelaysMs: [200, 1_000, 5_000],
  deadLetter: false,
});
