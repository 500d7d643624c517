import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KafkaHeaders } from './kafka-client.js';
import { deadLetterRecord } from './kafka-consumer.js';

const deadLetterHeaders = {
  [KafkaHeaders.error]: 'InvalidMessageError: invalid JSON',
  [KafkaHeaders.originalTopic]: 'order-events',
  [KafkaHeaders.originalPartition]: '2',
  [KafkaHeaders.originalOffset]: '41',
  [KafkaHeaders.attempts]: '1',
  [KafkaHeaders.consumerGroup]: 'analytics',
};

describe('the dead letter of a Kafka record', () => {
  it('copies key, body and headers when they fit the dead letter topic', () => {
    const value = Buffer.from('{"not": "an envelope"}');
    const letter = deadLetterRecord(
      { key: Buffer.from('k'), value },
      { 'message-id': 'm1' },
      deadLetterHeaders,
      1_048_576,
    );
    expect(letter.key).toBe('k');
    expect(letter.value).toEqual(value);
    expect(letter.headers).toEqual({ 'message-id': 'm1', ...deadLetterHeaders });
  });

  it('replaces a body too large to copy by a reference to the original, with its size and hash', () => {
    const value = Buffer.alloc(1_048_000, 'x');
    const letter = deadLetterRecord(
      { key: Buffer.from('k'), value },
      { 'message-id': 'm1' },
      deadLetterHeaders,
      1_048_576,
    );
    expect(letter.headers).toMatchObject({
      ...deadLetterHeaders,
      'message-id': 'm1',
      [KafkaHeaders.bodyOmitted]: '1048000',
    });
    expect(JSON.parse(letter.value.toString())).toMatchObject({
      originalTopic: 'order-events',
      originalPartition: 2,
      originalOffset: '41',
      sizeBytes: 1_048_000,
      sha256: createHash('sha256').update(value).digest('hex'),
    });
    expect(letter.value.length).toBeLessThan(1_000);
  });

  it('drops huge headers of the original rather than fail to write the dead letter', () => {
    const letter = deadLetterRecord(
      { key: null, value: Buffer.from('{}') },
      { 'message-id': 'm1', padding: 'p'.repeat(2_000_000) },
      deadLetterHeaders,
      1_048_576,
    );
    expect(letter.headers.padding).toBeUndefined();
    expect(letter.headers['message-id']).toBe('m1');
    expect(letter.headers[KafkaHeaders.error]).toBe('InvalidMessageError: invalid JSON');
  });
});
