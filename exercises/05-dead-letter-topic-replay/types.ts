import type { KafkaRecord } from '@am/messaging';

/** A record of the dead letter topic `order-events.dlt`, as a consumer of it reads it. */
export interface DeadLetterRecord {
  /** Its offset in the dead letter topic. */
  offset: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

export interface ReplayPlan {
  /** The records to produce, one per original record. */
  send: KafkaRecord[];
  /** Dead letters of the group that cannot be replayed, with why. */
  skipped: { offset: string; reason: string }[];
}

export type PlanReplay = (records: readonly DeadLetterRecord[], group: string) => ReplayPlan;

/**
 * Where a replay for one consumer group goes: a topic that group alone reads (`replayTopic` in the project's
 * topology). Sending the record back to its original topic would deliver it again to every group of that topic
 * (and only orders may write `order-events`).
 */
export { replayTopic } from '@am/messaging';
