import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readDeadLetter, readTime } from './dead-letter.read.js';

const body = Buffer.from('{"messageId":"m-1"}');

describe('reading a dead letter', () => {
  it('takes reason, retry count and failure times from the headers our consumers write', () => {
    // Given a delivery dead-lettered by the library after three retries
    const delivery = {
      content: body,
      properties: {
        messageId: 'm-1',
        type: 'order.place',
        correlationId: 'c-1',
        headers: {
          'x-retry-count': 3,
          'x-error': 'Error: boom',
          'x-first-failure-at': '2026-01-01T10:00:00.000Z',
          'x-last-failure-at': '2026-01-01T10:00:30.000Z',
        },
      },
    };
    // When it is read
    const letter = readDeadLetter('order-processing-dlq', delivery);
    // Then every field comes from the delivery, and the body is the same bytes
    expect(letter).toEqual({
      queue: 'order-processing-dlq',
      messageId: 'm-1',
      messageType: 'order.place',
      correlationId: 'c-1',
      content: body,
      reason: 'Error: boom',
      retryCount: 3,
      firstFailedAt: new Date('2026-01-01T10:00:00.000Z'),
      lastFailedAt: new Date('2026-01-01T10:00:30.000Z'),
    });
  });

  it("falls back on RabbitMQ's x-death when the broker dead-lettered the message itself", () => {
    const delivery = {
      content: body,
      properties: {
        messageId: 'm-2',
        headers: {
          'x-death': [
            { reason: 'rejected', queue: 'payment.refund', count: 1, time: { '!': 'timestamp', value: 1_767_261_600 } },
          ],
        },
      },
    };
    const letter = readDeadLetter('payment.refund-dlq', delivery);
    expect(letter.reason).toBe('dead-lettered by RabbitMQ: rejected from payment.refund');
    expect(letter.retryCount).toBe(0);
    expect(letter.lastFailedAt).toEqual(new Date(1_767_261_600_000));
    expect(letter.firstFailedAt).toEqual(letter.lastFailedAt);
  });

  it('names a message without an id by the hash of its bytes, so a redelivery is still recognised', () => {
    const letter = readDeadLetter('order-processing-dlq', { content: body, properties: {} });
    expect(letter.messageId).toBe(`sha256:${createHash('sha256').update(body).digest('hex')}`);
    expect(letter.reason).toMatch(/^unknown/);
    expect(letter).toMatchObject({ messageType: null, correlationId: null, lastFailedAt: null, firstFailedAt: null });
  });

  it('trusts nothing in hostile headers', () => {
    // Given headers with a prototype trick, NUL characters, a negative count and an absurd date
    const headers = JSON.parse('{"__proto__": {"x-error": "injected"}}') as Record<string, unknown>;
    Object.setPrototypeOf(headers, { 'x-error': 'inherited' });
    headers['x-retry-count'] = -4;
    headers['x-last-failure-at'] = '+275000-01-01T00:00:00.000Z';
    const letter = readDeadLetter('q-dlq', { content: body, properties: { messageId: 'a\u0000b', headers } });
    // Then only own headers count, NUL is gone, and out-of-range values count as absent
    expect(letter.reason).toMatch(/^unknown/);
    expect(letter.messageId).toBe('ab');
    expect(letter.retryCount).toBe(0);
    expect(letter.lastFailedAt).toBeNull();
  });

  it('reads failure times written as text, epoch seconds or AMQP timestamps, and nothing else', () => {
    expect(readTime('2026-03-01T00:00:00Z')).toEqual(new Date('2026-03-01T00:00:00Z'));
    expect(readTime(1_767_261_600)).toEqual(new Date(1_767_261_600_000));
    expect(readTime({ '!': 'timestamp', value: 1_767_261_600 })).toEqual(new Date(1_767_261_600_000));
    expect(readTime('not a date')).toBeNull();
    expect(readTime(undefined)).toBeNull();
    expect(readTime({ value: 1 })).toBeNull();
  });
});
