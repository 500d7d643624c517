import { expect } from 'vitest';
import { KafkaHeaders, Topics } from '@am/messaging';
import type { Cases } from '../lib.js';
import { replayTopic, type DeadLetterRecord, type PlanReplay } from './types.js';

/** A dead letter as the project's consumers write it (`deadLetter` in libs/messaging/src/kafka/kafka-consumer.ts). */
const deadLetter = (
  offset: string,
  original: { partition: number; offset: number },
  group: string,
  extra: Record<string, string> = {},
): DeadLetterRecord => ({
  offset,
  key: `order-${original.offset}`,
  value: JSON.stringify({ type: 'order.created', n: original.offset }),
  headers: {
    [KafkaHeaders.eventType]: 'order.created',
    [KafkaHeaders.messageId]: `m-${original.offset}`,
    [KafkaHeaders.correlationId]: `c-${original.offset}`,
    [KafkaHeaders.traceparent]: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    [KafkaHeaders.error]: 'Error: the database is down',
    [KafkaHeaders.originalTopic]: Topics.orderEvents,
    [KafkaHeaders.originalPartition]: String(original.partition),
    [KafkaHeaders.originalOffset]: String(original.offset),
    [KafkaHeaders.attempts]: '3',
    [KafkaHeaders.consumerGroup]: group,
    ...extra,
  },
});

const a = deadLetter('0', { partition: 1, offset: 40 }, 'audit');
const b = deadLetter('1', { partition: 2, offset: 7 }, 'analytics');
const c = deadLetter('2', { partition: 0, offset: 12 }, 'audit');

export const cases: Cases<PlanReplay> = {
  "replays the group's dead letters to the group's own replay topic, key and body as they were": (plan) => {
    const { send, skipped } = plan([a, b, c], 'audit');
    expect(skipped).toEqual([]);
    expect(send.map((r) => [r.topic, r.key, r.value])).toEqual([
      [replayTopic(Topics.orderEvents, 'audit'), a.key, a.value],
      [replayTopic(Topics.orderEvents, 'audit'), c.key, c.value],
    ]);
  },
  "leaves other groups' dead letters alone": (plan) => {
    expect(plan([a, b, c], 'analytics').send.map((r) => r.headers[KafkaHeaders.messageId])).toEqual(['m-7']);
    expect(plan([a, c], 'email')).toEqual({ send: [], skipped: [] });
  },
  'keeps the message id, correlation, type and trace (the inbox and the traces still match), drops the failure': (
    plan,
  ) => {
    const [record] = plan([a], 'audit').send;
    expect(record!.headers).toMatchObject({
      [KafkaHeaders.eventType]: 'order.created',
      [KafkaHeaders.messageId]: 'm-40',
      [KafkaHeaders.correlationId]: 'c-40',
      [KafkaHeaders.traceparent]: a.headers[KafkaHeaders.traceparent],
    });
    for (const gone of [KafkaHeaders.error, KafkaHeaders.attempts, KafkaHeaders.consumerGroup]) {
      expect(record!.headers, gone).not.toHaveProperty(gone);
    }
  },
  'says where each replay comes from: x-replayed-from names the original topic, partition and offset': (plan) => {
    expect(plan([a], 'audit').send[0]!.headers['x-replayed-from']).toBe('order-events/1/40');
  },
  'sends one record per original, however often it was dead-lettered': (plan) => {
    const again = { ...a, offset: '9' };
    expect(plan([a, again, c], 'audit').send).toHaveLength(2);
  },
  'skips, with the reason, a dead letter whose body was too large to copy': (plan) => {
    const big = deadLetter('5', { partition: 2, offset: 99 }, 'audit', { [KafkaHeaders.bodyOmitted]: '1040000' });
    const { send, skipped } = plan([a, big], 'audit');
    expect(send).toHaveLength(1);
    expect(skipped.map((s) => s.offset)).toEqual(['5']);
    expect(skipped[0]!.reason).toMatch(/1040000 bytes.*order-events\/2\/99/);
  },
};
