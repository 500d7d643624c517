import { MessageCatalog, accountEventMessages, type AccountEventMessage } from '@am/contracts';
import { Topics, defineKafkaSubscription, type KafkaProjection } from '@am/messaging';
import { ACCOUNT_ACTIVITY_CONSUMER, projectAccountEvents } from './account-activity.projection.js';

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
    // No dead letter topic: an account's events are its history, written only by payments' event store (validated
    // before they are stored), and a sum that skipped one would be wrong for good. A record that keeps failing holds
    // its partition (the lag grows and the error is logged) until it gets through or a fix is deployed.
    deadLetter: false,
  }),
  catalog: new MessageCatalog([...accountEventMessages]),
  // The catalog admits account events only: what reaches `project` parsed as one of them.
  // Derived data: emptied when its stored positions turn out to be of another Kafka log, or by an operator's reset to
  // earliest, then rebuilt from the log. Its inbox claims go with it: they guard sums that no longer exist, and left
  // behind they would make the rebuild skip every event it claimed before (an empty model instead of a rebuilt one).
  reset: async (manager) => {
    await manager.query('DELETE FROM account_activity');
    await manager.query('DELETE FROM processed_messages WHERE consumer = $1', [ACCOUNT_ACTIVITY_CONSUMER]);
  },
  readModel: 'account_activity and its inbox claims',
  project: (manager, events) => projectAccountEvents(manager, events as AccountEventMessage[]),
};
