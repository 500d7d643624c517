import { Topics } from '../topology.js';

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
}

export function defineKafkaSubscription(
  spec: Pick<KafkaSubscription, 'topic' | 'groupId'> & Partial<KafkaSubscription>,
): KafkaSubscription {
  return {
    fromBeginning: true,
    retryDelaysMs: [200, 1_000, 3_000],
    deadLetterTopic: spec.topic === Topics.orderEvents ? Topics.orderEventsDeadLetters : `${spec.topic}.dlt`,
    ...spec,
  };
}
