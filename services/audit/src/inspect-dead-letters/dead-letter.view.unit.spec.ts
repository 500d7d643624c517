import { describe, expect, it } from 'vitest';
import { isDeadLetterId } from './dead-letter-id.pipe.js';
import { INLINE_CONTENT_LIMIT, describeContent, toDeadLetterView, type DeadLetterRow } from './dead-letter.view.js';

const row = (content: Buffer | null, size = content?.length ?? 0): DeadLetterRow => ({
  id: '7',
  queue: 'order-processing-dlq',
  message_id: 'm-1',
  message_type: 'order.place',
  correlation_id: 'c-1',
  reason: 'InvalidMessageError: invalid JSON',
  retry_count: 0,
  first_failed_at: new Date('2026-01-01T00:00:00Z'),
  last_failed_at: new Date('2026-01-01T00:00:00Z'),
  received_at: new Date('2026-01-01T00:00:01Z'),
  replayed_at: null,
  replay_count: 0,
  replayed_by: null,
  content_bytes: size,
  content_truncated: false,
  content_sha256: null,
  content,
  source: 'queue',
  topic: null,
  consumer_group: null,
  original_partition: null,
  original_offset: null,
  body_omitted_bytes: null,
  came_back_at: null,
  record_headers: null,
});

describe('showing a dead letter', () => {
  it('shows a small UTF-8 body as text, and where a replay would send it', () => {
    const view = toDeadLetterView(row(Buffer.from('{not json')));
    expect(view).toMatchObject({ id: 7, originalQueue: 'order-processing', content: '{not json', contentBytes: 9 });
    expect(view.consumer).toBe('orders');
    expect(view.headers).toMatchObject({ 'x-retry-count': '0', 'x-original-queue': 'order-processing' });
    expect(view.contentNote).toBeUndefined();
  });

  it("shows where a Kafka dead letter came from, and the group's replay topic a replay writes", () => {
    const kafka: DeadLetterRow = {
      ...row(Buffer.from('{}')),
      queue: 'order-events.dlt',
      source: 'topic',
      topic: 'order-events',
      consumer_group: 'order-notifications',
      original_partition: 2,
      original_offset: '41',
      record_headers: { 'x-consumer-group': 'order-notifications' },
    };
    expect(toDeadLetterView(kafka)).toMatchObject({
      consumer: 'email',
      headers: { 'x-consumer-group': 'order-notifications' },
    });
    expect(toDeadLetterView(kafka)).toMatchObject({
      source: 'topic',
      originalQueue: null,
      kafka: {
        topic: 'order-events',
        consumerGroup: 'order-notifications',
        partition: 2,
        offset: '41',
        replayTopic: 'order-events.replay.order-notifications',
        bodyOmittedBytes: null,
      },
    });
  });

  it('does not decode a body that is not UTF-8, and says where its bytes are', () => {
    expect(describeContent('7', 2, Buffer.from([0xc3, 0x28]))).toEqual({
      content: null,
      contentNote: '2 bytes, not valid UTF-8; the exact bytes are at GET /dead-letters/7/content',
    });
  });

  it('leaves out a body larger than the inline limit', () => {
    const size = 10 * 1024 * 1024;
    expect(describeContent('7', size, null)).toEqual({
      content: null,
      contentNote: `${size} bytes, too large to show inline (limit ${INLINE_CONTENT_LIMIT}); the exact bytes are at GET /dead-letters/7/content`,
    });
  });

  it('says when only the first part of a body was kept, with the whole size', () => {
    const view = toDeadLetterView({ ...row(null, 50 * 1024 * 1024), content_truncated: true, content_sha256: 'abc' });
    expect(view).toMatchObject({
      content: null,
      contentTruncated: true,
      contentSha256: 'abc',
      contentBytes: 52_428_800,
    });
    expect(view.contentNote).toMatch(/of which the first 16777216 are kept/);
  });

  it('shows an empty body as empty text', () => {
    expect(describeContent('7', 0, Buffer.alloc(0))).toEqual({ content: '' });
  });
});

describe('dead letter ids', () => {
  it('accepts positive integers that fit a bigint and nothing else', () => {
    expect(['1', '42', '999999999999999999'].map(isDeadLetterId)).toEqual([true, true, true]);
    expect(['0', '-1', '01', '1.5', 'abc', '', '9999999999999999999', '1e3'].map(isDeadLetterId)).toEqual(
      Array(8).fill(false),
    );
  });
});
