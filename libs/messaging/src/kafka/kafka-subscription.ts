import { Topics, replayTopic, topics } from '../topology.js';

/** Delivery policy of one Kafka consumer group on one topic, declared beside its handlers. */
export interface KafkaSubscription {
  topic: string;
  groupId: string;
  /** A new group starts from offset 0 (read the whole log) or from the end. */
  fromBeginning: boolean;
  /** Delays of the in-place retries before a record goes to the dead letter topic. */
  retryDelaysMs: readonly number[];
  /** Where a record goes when it keeps failing; the partition then moves on. */
  deadLetterTopic: string;
  /** The dead letter topic's `max.message.bytes` (the topology's value unless set). */
  deadLetterMaxBytes?: number;
  /**
   * False at the end of the line (the dead letter topic's own reader): a record that keeps failing is not
   * dead-lettered but tried again after the last delay, for as long as it takes; the partition waits.
   */
  deadLetter?: boolean;
  /**
   * The group's replay topic (`order-events.replay.<group>`), which the group also reads, from its first record:
   * the audit service sends a replayed dead letter there. Set from the topology when it has one for this group.
   */
  replayTopic?: string;
}

export function defineKafkaSubscription(
  spec: Pick<KafkaSubscription, 'topic' | 'groupId'> & Partial<KafkaSubscription>,
): KafkaSubscription {
  const replay = replayTopic(spec.topic, spec.groupId);
  const subscription: KafkaSubscription = {
    fromBeginning: true,
    retryDelaysMs: [200, 1_000, 3_000],
    deadLetterTopic: spec.topic === Topics.orderEvents ? Topics.orderEventsDeadLetters : `${spec.topic}.dlt`,
    ...(topics.some((t) => t.name === replay && t.groups.some((g) => g.groupId === spec.groupId))
      ? { replayTopic: replay }
      : {}),
    ...spec,
  };
  // A record that keeps failing must have somewhere to go: a topic of the topology's that is not provisioned would make
  // every dead letter fail, and the partition would stop at its first poison record (a bench's own topic is exempt).
  const known = (name: string) => topics.some((t) => t.name === name);
  if (subscription.deadLetter !== false && known(subscription.topic) && !known(subscription.deadLetterTopic)) {
    throw new Error(
      `kafka subscription ${subscription.groupId} on ${subscription.topic}: its dead letter topic ${subscription.deadLetterTopic} is not in the topology (add it, or set deadLetter: false)`,
    );
  }
  return subscription;
}
