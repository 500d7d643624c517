import { describe, expect, it } from 'vitest';
import { Topics } from '../topology.js';
import { KafkaHeaders } from './kafka-client.js';
import { planReplay, replayOf, type DeadLetterTopicRecord } from './dead-letter-replay.js';

/** The headers the original record carried (`recordFor`). */
const messageHeaders = {
  [KafkaHeaders.eventType]: 'order.confirmed',
  [KafkaHeaders.messageId]: 'm-1',
  [KafkaHeaders.correlationId]: 'c-1',
  [KafkaHeaders.traceparent]: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
};

/** A dead letter as `KafkaMember.deadLetter` writes it, in a deployment whose names start with `prefix`. */
function letter(
  prefix: string,
  from: { topic?: string; partition: number; offset: string; group: string },
  extra: Record<string, string> = {},
): DeadLetterTopicRecord {
  return {
    offset: '3',
    key: 'order-1',
    value: '{"type":"order.confirmed"}',
    headers: {
      ...messageHeaders,
      [KafkaHeaders.error]: 'Error: 451 temporary failure',
      [KafkaHeaders.originalTopic]: `${prefix}${from.topic ?? Topics.orderEvents}`,
      [KafkaHeaders.originalPartition]: String(from.partition),
      [KafkaHeaders.originalOffset]: from.offset,
      [KafkaHeaders.attempts]: '4',
      [KafkaHeaders.consumerGroup]: `${prefix}${from.group}`,
      ...extra,
    },
  };
}

describe('replaying one Kafka dead letter', () => {
  it("goes to the failed group's replay topic, names unprefixed, with the message's own headers only", () => {
    // Given a dead letter of group order-notifications in a deployment prefixed `run-1.`
    const replay = replayOf(letter('run-1.', { partition: 2, offset: '17', group: 'order-notifications' }), 'run-1.');
    // Then one record to order-events.replay.order-notifications (KafkaClient.send puts the prefix back)
    expect(replay).toEqual({
      ok: true,
      origin: {
        topic: 'order-events',
        partition: 2,
        offset: '17',
        group: 'order-notifications',
        key: 'order-events/2/17',
      },
      record: {
        topic: 'order-events.replay.order-notifications',
        key: 'order-1',
        value: '{"type":"order.confirmed"}',
        // The message's own headers, as they were, and where the replay comes from; no failure header.
        headers: { ...messageHeaders, 'x-replayed-from': 'order-events/2/17' },
      },
    });
  });

  it('sends a replay that failed again back to the same replay topic, not to a replay of the replay', () => {
    const again = replayOf(
      letter('', { topic: 'order-events.replay.audit', partition: 0, offset: '0', group: 'audit' }),
    );
    expect(again.ok && again.record.topic).toBe('order-events.replay.audit');
  });

  it('refuses, with where the body is, a dead letter whose body was too large to copy', () => {
    const big = letter('', { partition: 1, offset: '9', group: 'audit' }, { [KafkaHeaders.bodyOmitted]: '1048000' });
    expect(replayOf(big)).toMatchObject({
      ok: false,
      reason: 'body omitted (1048000 bytes): read it from order-events/1/9',
    });
  });

  it('refuses a record that does not say where it came from (not written by a consumer of the project)', () => {
    const odd = { offset: '0', key: '', value: 'x', headers: { [KafkaHeaders.originalOffset]: 'not a number' } };
    expect(replayOf(odd)).toMatchObject({ ok: false, reason: expect.stringMatching(/do not say/) });
  });
});

describe("planning a group's replay from the dead letter topic", () => {
  it('takes the group of the deployment only, one record per original, in the order of the topic', () => {
    const records = [
      letter('p.', { partition: 0, offset: '5', group: 'audit' }),
      letter('p.', { partition: 0, offset: '5', group: 'analytics' }),
      letter('p.', { partition: 0, offset: '5', group: 'audit' }),
      letter('p.', { partition: 1, offset: '2', group: 'audit' }),
    ];
    const plan = planReplay(records, 'audit', 'p.');
    expect(plan.skipped).toEqual([]);
    expect(plan.send.map((r) => [r.topic, r.headers['x-replayed-from']])).toEqual([
      ['order-events.replay.audit', 'order-events/0/5'],
      ['order-events.replay.audit', 'order-events/1/2'],
    ]);
  });
});
