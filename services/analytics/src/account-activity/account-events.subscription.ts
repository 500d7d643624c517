import { MessageCatalog, accountEventMessages, type AccountEventMessage } from '@am/contracts';
import { Topics, defineKafkaSubscription, type KafkaProjection } from '@am/messaging';
import { projectAccountEvents } from './account-activity.projection.js';

/**
 * Consumer group `analytics-accounts` reads `account-events` (the payments service's event-sourced accounts) from
 * offset 0, in batches, each applied with its partition's next offset in one transaction: the read model of what
 * every account did, built by a second service from the first one's event stream.
 */
export const accountEventsProjection: KafkaProjection = {
  subscription: defineKafkaSubscription({
    topic: Topics.accountEvents,
    groupId: 'analytics-accounts',
    fromBeginning: true,
  }),
  catalog: new MessageCatalog([...accountEventMessages]),
  // The catalog admits account events only: what reaches `project` parsed as one of them.
  // Derived data: emptied when its stored positions turn out to be of another Kafka log, then rebuilt from the log.
  reset: async (manager) => void (await manager.query('DELETE FROM account_activity')),
  project: (manager, events) => projectAccountEvents(manager, events as AccountEventMessage[]),
};
