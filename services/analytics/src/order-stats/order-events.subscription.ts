import { MessageCatalog, orderEvents, type OrderEvent } from '@am/contracts';
import { Topics, defineKafkaSubscription, type KafkaProjection } from '@am/messaging';
import { projectOrderEvents } from './order-stats.projection.js';

/**
 * Consumer group `analytics` reads `order-events` from offset 0 (so its read model can be rebuilt by replay), in
 * batches, the three partitions in parallel, each batch applied with its partition's next offset in one
 * transaction (offsets kept with the data: no inbox row per event).
 */
export const orderEventsProjection: KafkaProjection = {
  subscription: defineKafkaSubscription({ topic: Topics.orderEvents, groupId: 'analytics', fromBeginning: true }),
  catalog: new MessageCatalog([...orderEvents]),
  // The catalog admits order events only: what reaches `project` parsed as one of them.
  // Derived data: emptied when its stored positions turn out to be of another Kafka log, then rebuilt from the log.
  reset: async (manager) => void (await manager.query('DELETE FROM order_stats')),
  readModel: 'order_stats',
  project: (manager, events) => projectOrderEvents(manager, events as OrderEvent[]),
};
