import { describe, expect, it } from 'vitest';
import { AmqpClient } from './amqp/amqp-client.js';
import { defineSubscription } from './amqp/amqp-subscription.js';
import { UnsafeConfigurationError } from './errors.js';
import { KafkaClient } from './kafka/kafka-client.js';

describe('unsafe settings refuse to start', () => {
  it('refuses auto-ack on an at-least-once subscription, and says what to do', () => {
    expect(() => defineSubscription({ queue: 'q', autoAck: true })).toThrow(UnsafeConfigurationError);
    expect(() => defineSubscription({ queue: 'q', autoAck: true })).toThrow(/auto-ack cannot give at-least-once/);
  });

  it('accepts auto-ack only where at-most-once is declared', () => {
    expect(defineSubscription({ queue: 'q', autoAck: true, delivery: 'at-most-once' })).toMatchObject({
      delivery: 'at-most-once',
      autoAck: true,
    });
  });

  it('refuses an unbounded or absurd prefetch', () => {
    expect(() => defineSubscription({ queue: 'q', prefetch: 0 })).toThrow(/prefetch must be an integer from 1 to 1000/);
    expect(() => defineSubscription({ queue: 'q', prefetch: 2.5 })).toThrow(UnsafeConfigurationError);
  });

  it('refuses more retries than the topology has retry queues', () => {
    expect(() => defineSubscription({ queue: 'q', retryDelaysMs: [1, 2, 3, 4] })).toThrow(/4 retries/);
  });

  it('refuses batches outside at-least-once, larger than the prefetch, or with no concurrency', () => {
    expect(() => defineSubscription({ queue: 'q', delivery: 'at-most-once', batch: { maxSize: 5 } })).toThrow(
      /batches are for at-least-once delivery/,
    );
    expect(() => defineSubscription({ queue: 'q', prefetch: 10, batch: { maxSize: 11 } })).toThrow(
      /batch.maxSize must be an integer from 1 to the prefetch, 10/,
    );
    expect(() => defineSubscription({ queue: 'q', batch: { maxSize: 5, concurrency: 0 } })).toThrow(
      /batch.concurrency must be a positive integer/,
    );
    expect(defineSubscription({ queue: 'q', prefetch: 10, batch: { maxSize: 10 } }).batch).toEqual({ maxSize: 10 });
  });

  it('refuses non-persistent messages', () => {
    expect(() => new AmqpClient({ url: 'amqp://x', connectionName: 't', persistent: false })).toThrow(
      /non-persistent messages to durable queues/,
    );
  });

  it('refuses a Kafka producer without idempotence', () => {
    expect(() => new KafkaClient({ brokers: ['x:9092'], clientId: 't', credentials: null, idempotent: false })).toThrow(
      /must be idempotent/,
    );
  });

  it('defaults to at-least-once, manual ack, prefetch 10 and three delayed retries', () => {
    expect(defineSubscription({ queue: 'q' })).toEqual({
      queue: 'q',
      prefetch: 10,
      delivery: 'at-least-once',
      retryDelaysMs: [1_000, 5_000, 25_000],
    });
  });
});
