import { MessageCatalog, orderEvents } from '@am/contracts';
import { Topics, defineKafkaSubscription } from '@am/messaging';

/** Consumer group `analytics` reads `order-events` from offset 0, so its read model can be rebuilt by replay. */
export const orderEventsSubscription = {
  subscription: defineKafkaSubscription({ topic: Topics.orderEvents, groupId: 'analytics', fromBeginning: true }),
  catalog: new MessageCatalog([...orderEvents]),
};
