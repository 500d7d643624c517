import { KafkaHeaders, type KafkaRecord } from '@am/messaging';
import { replayTopic, type DeadLetterRecord, type ReplayPlan } from '../05-dead-letter-topic-replay/types.js';

/** The headers that describe the failure, not the message: a replay starts without them. */
const failureHeaders = new Set<string>([
  KafkaHeaders.error,
  KafkaHeaders.originalTopic,
  KafkaHeaders.originalPartition,
  KafkaHeaders.originalOffset,
  KafkaHeaders.attempts,
  KafkaHeaders.consumerGroup,
  KafkaHeaders.bodyOmitted,
]);

/** Reference solution: the group's dead letters, one per original record, to the group's replay topic. */
export function planReplay(records: readonly DeadLetterRecord[], group: string): ReplayPlan {
  const send: KafkaRecord[] = [];
  const skipped: ReplayPlan['skipped'] = [];
  const seen = new Set<string>();
  for (const record of records) {
    const h = record.headers;
    if (h[KafkaHeaders.consumerGroup] !== group) continue;
    const topic = h[KafkaHeaders.originalTopic]!;
    const origin = `${topic}/${h[KafkaHeaders.originalPartition]}/${h[KafkaHeaders.originalOffset]}`;
    if (seen.has(origin)) continue;
    seen.add(origin);
    if (h[KafkaHeaders.bodyOmitted]) {
      skipped.push({
        offset: record.offset,
        reason: `body omitted (${h[KafkaHeaders.bodyOmitted]} bytes): read it from ${origin}`,
      });
      continue;
    }
    const headers = Object.fromEntries(Object.entries(h).filter(([name]) => !failureHeaders.has(name)));
    send.push({
      topic: replayTopic(topic, group),
      key: record.key,
      value: record.value,
      headers: { ...headers, 'x-replayed-from': origin },
    });
  }
  return { send, skipped };
}
