import { describe, expect, it } from 'vitest';
import { KafkaHeaders } from '@am/messaging';
import { readKafkaDeadLetter, type DeadLetterTopicDelivery } from './kafka-dead-letter.read.js';

const written = Date.UTC(2026, 0, 1, 10, 0, 0);

/** A record of `run-1.order-events.dlt` as email's consumer group writes it after four attempts. */
const record = (headers: Record<string, string> = {}): DeadLetterTopicDelivery => ({
  partition: 0,
  offset: '12',
  timestamp: String(written),
  key: 'order-7',
  value: Buffer.from('{"type":"order.confirmed"}'),
  headers: {
    [KafkaHeaders.eventType]: 'order.confirmed',
    [KafkaHeaders.messageId]: 'm-7',
    [KafkaHeaders.correlationId]: 'c-7',
    [KafkaHeaders.error]: 'Error: 451 4.3.0 temporary failure',
    [KafkaHeaders.originalTopic]: 'run-1.order-events',
    [KafkaHeaders.originalPartition]: '2',
    [KafkaHeaders.originalOffset]: '40',
    [KafkaHeaders.attempts]: '4',
    [KafkaHeaders.consumerGroup]: 'run-1.order-notifications',
    ...headers,
  },
});

describe('reading a Kafka dead letter', () => {
  it('takes the ids, the reason, the attempts and the origin from the headers, names without the prefix', () => {
    const letter = readKafkaDeadLetter(record(), 'run-1.');
    expect(letter).toMatchObject({
      queue: 'order-events.dlt',
      messageId: 'm-7',
      messageType: 'order.confirmed',
      correlationId: 'c-7',
      reason: 'Error: 451 4.3.0 temporary failure',
      retryCount: 3,
      lastFailedAt: new Date(written),
      kafka: {
        topic: 'order-events',
        consumerGroup: 'order-notifications',
        partition: 2,
        offset: '40',
        key: 'order-7',
        bodyOmittedBytes: null,
      },
    });
    // The headers as written, prefix and all: the replay starts from them.
    expect(letter.kafka!.headers[KafkaHeaders.originalTopic]).toBe('run-1.order-events');
  });

  it('keeps the size of a body that was too large to copy', () => {
    expect(readKafkaDeadLetter(record({ [KafkaHeaders.bodyOmitted]: '1048000' }), 'run-1.').kafka).toMatchObject({
      bodyOmittedBytes: 1_048_000,
    });
  });

  it('stores a record that names no origin under its own position in the dead letter topic', () => {
    const odd = readKafkaDeadLetter(
      { ...record(), headers: { [KafkaHeaders.originalOffset]: 'x', 'bad\u0000name': 'v', note: 'a\u0000b' } },
      '',
    );
    expect(odd).toMatchObject({
      messageId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      reason: expect.stringMatching(/^unknown/),
      retryCount: 0,
      kafka: { topic: 'order-events.dlt', consumerGroup: '', partition: 0, offset: '12' },
    });
    expect(odd.kafka!.headers).toEqual({ [KafkaHeaders.originalOffset]: 'x', note: 'ab' });
  });
});
