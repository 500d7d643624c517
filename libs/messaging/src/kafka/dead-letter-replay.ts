import { replayTopic } from '../topology.js';
import { KafkaHeaders, type KafkaRecord } from './kafka-client.js';

/** A record of a dead letter topic (`order-events.dlt`), as a reader of that topic sees it. */
export interface DeadLetterTopicRecord {
  /** Its offset in the dead letter topic. */
  offset: string;
  key: string;
  value: string | Buffer;
  headers: Record<string, string>;
}

/** The headers that describe the failure, not the message: a replay starts without them. */
const FAILURE_HEADERS: ReadonlySet<string> = new Set([
  KafkaHeaders.error,
  KafkaHeaders.originalTopic,
  KafkaHeaders.originalPartition,
  KafkaHeaders.originalOffset,
  KafkaHeaders.attempts,
  KafkaHeaders.consumerGroup,
  KafkaHeaders.bodyOmitted,
]);

/** Header of a replayed record: `<original topic>/<partition>/<offset>` of the record that was dead-lettered. */
export const REPLAYED_FROM_HEADER = 'x-replayed-from';

/** Where a dead letter came from and which group failed it, names without the deployment's prefix. */
export interface DeadLetterOrigin {
  topic: string;
  partition: number;
  offset: string;
  group: string;
  /** `topic/partition/offset`: the original record, one per dead letter however often it was dead-lettered. */
  key: string;
}

/** A dead letter's origin from its headers, or undefined when they do not name one (not written by a consumer). */
export function deadLetterOrigin(headers: Record<string, string>, prefix = ''): DeadLetterOrigin | undefined {
  const topic = unprefixed(headers[KafkaHeaders.originalTopic], prefix);
  const group = unprefixed(headers[KafkaHeaders.consumerGroup], prefix);
  const partition = Number(headers[KafkaHeaders.originalPartition]);
  const offset = headers[KafkaHeaders.originalOffset] ?? '';
  if (!topic || !group || !Number.isInteger(partition) || partition < 0 || !/^\d{1,19}$/.test(offset)) return undefined;
  return { topic, partition, offset, group, key: `${topic}/${partition}/${offset}` };
}

/** What replaying one dead letter means: the record to produce, or why it cannot be replayed. */
export type DeadLetterReplay =
  | { ok: true; origin: DeadLetterOrigin; record: KafkaRecord }
  | { ok: false; origin?: DeadLetterOrigin; reason: string };

/**
 * Pattern: dead letter replay, for Kafka. The record that replays one dead letter: to the failed group's replay
 * topic (`replayTopic`: only that group reads it), with the original key (same partition, same order per key) and
 * body, the message id (the group's inbox recognises a message it did handle after all), correlation id, type and
 * trace; without the failure headers; with `x-replayed-from` naming the original record. A dead letter whose body
 * was too large to copy cannot be replayed from the dead letter topic: the reason says where the body is. Pure.
 *
 * `prefix` is the deployment's topic and group prefix (the headers carry prefixed names; the record's topic is
 * unprefixed, as `KafkaClient.send` wants it).
 */
export function replayOf(letter: DeadLetterTopicRecord, prefix = ''): DeadLetterReplay {
  const origin = deadLetterOrigin(letter.headers, prefix);
  if (!origin) {
    return {
      ok: false,
      reason: 'its headers do not say which topic, partition, offset and consumer group it came from',
    };
  }
  const omitted = letter.headers[KafkaHeaders.bodyOmitted];
  if (omitted !== undefined) {
    return { ok: false, origin, reason: `body omitted (${omitted} bytes): read it from ${origin.key}` };
  }
  const headers = Object.fromEntries(Object.entries(letter.headers).filter(([name]) => !FAILURE_HEADERS.has(name)));
  return {
    ok: true,
    origin,
    record: {
      topic: replayTopic(origin.topic, origin.group),
      key: letter.key,
      value: letter.value,
      headers: { ...headers, [REPLAYED_FROM_HEADER]: origin.key },
    },
  };
}

/** The records to produce to replay a consumer group's dead letters, and the ones that cannot be replayed. */
export interface ReplayPlan {
  /** One record per original record. */
  send: KafkaRecord[];
  /** Dead letters of the group that cannot be replayed, with why. */
  skipped: { offset: string; reason: string }[];
}

/**
 * Plans the replay of `group`'s dead letters among `records` (the dead letter topic, read in order): one record per
 * original, however often it was dead-lettered (the dead letter topic is written at least once: a consumer that
 * crashed after writing a dead letter and before committing writes it again). Pure.
 */
export function planReplay(records: readonly DeadLetterTopicRecord[], group: string, prefix = ''): ReplayPlan {
  const plan: ReplayPlan = { send: [], skipped: [] };
  const seen = new Set<string>();
  for (const letter of records) {
    const replay = replayOf(letter, prefix);
    const { origin } = replay;
    if (!origin || origin.group !== unprefixed(group, prefix) || seen.has(origin.key)) continue;
    seen.add(origin.key);
    if (replay.ok) plan.send.push(replay.record);
    else plan.skipped.push({ offset: letter.offset, reason: replay.reason });
  }
  return plan;
}

function unprefixed(name: string | undefined, prefix: string): string | undefined {
  if (name === undefined || name === '') return undefined;
  return prefix && name.startsWith(prefix) ? name.slice(prefix.length) : name;
}
