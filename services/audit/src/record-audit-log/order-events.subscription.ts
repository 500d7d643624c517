import { MessageCatalog, orderEvents } from '@am/contracts';
import { Topics, defineKafkaSubscription } from '@am/messaging';

/**
 * Consumer group `audit` on `order-events`, from offset 0: an audit log that starts late still records every
 * order event the topic holds (pattern: Kafka consumer groups, each with its own offsets).
 */
export const orderEventsSubscription = {
  subscription: defineKafkaSubscription({ topic: Topics.orderEvents, groupId: 'audit', fromBeginning: true }),
  catalog: new MessageCatalog([...orderEvents]),
};
