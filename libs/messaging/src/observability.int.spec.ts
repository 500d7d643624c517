import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderCreated } from '@am/contracts';
import { parseTraceparent, withSpan } from '@am/observability';
import { testEnv, waitFor } from '@am/testing';
import { AmqpClient } from './amqp/amqp-client.js';
import { KafkaClient, KafkaHeaders, readHeaders, recordFor } from './kafka/kafka-client.js';
import { KafkaGroupConsumer } from './kafka/kafka-consumer.js';
import { defineKafkaSubscription } from './kafka/kafka-subscription.js';
import { Exchanges, Queues, Topics } from './topology.js';

// The readers behind the queue-depth and consumer-lag metrics, and trace context through real brokers.
const env = testEnv();
const amqp = new AmqpClient({ url: env.rabbitmqUrl('orders'), connectionName: 'observability.int.spec' });
const kafka = new KafkaClient({
  brokers: [env.kafkaBrokers],
  clientId: 'observability.int.spec',
  credentials: env.kafkaAdmin,
  prefix: env.kafkaPrefix,
});

const orderCreated = () => {
  const orderId = randomUUID();
  return OrderCreated.create(
    { orderId, userId: randomUUID(), items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }], total: 100 },
    { correlationId: orderId },
  );
};

beforeAll(async () => {
  await amqp.connect();
  await kafka.connectProducer();
});

afterAll(async () => {
  await amqp.close();
  await kafka.close();
});

describe('metrics readers', () => {
  it('reads queue depth with a passive declare as a service user, skipping a queue that does not exist', async () => {
    const event = orderCreated();
    // order-processing has no consumer in this test: what is published stays ready.
    await amqp.publish(Exchanges.orderTasks, Queues.orderProcessing, event);
    const depths = await amqp.queueDepths([`no-such-queue-${randomUUID()}`, Queues.orderProcessing]);
    expect(depths).toEqual([{ queue: Queues.orderProcessing, messages: expect.any(Number), consumers: 0 }]);
    expect(depths[0]!.messages).toBeGreaterThanOrEqual(1);
  });

  it('reports the lag of a group per partition, down to 0 once it has consumed', async () => {
    const groupId = `lag-${randomUUID()}`;
    const events = [orderCreated(), orderCreated(), orderCreated()];
    await kafka.send(events.map((e) => recordFor(Topics.orderEvents, e.data.orderId, e)));
    const before = await kafka.consumerLag([{ topic: Topics.orderEvents, groupId }]);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((l) => l.topic === Topics.orderEvents && l.group === groupId)).toBe(true);
    // A group that has committed nothing (and reads from the beginning) is behind by the whole topic.
    expect(before.reduce((sum, l) => sum + l.lag, 0)).toBeGreaterThanOrEqual(events.length);

    const seen = new Set<string>();
    const consumer = new KafkaGroupConsumer(
      kafka,
      defineKafkaSubscription({ topic: Topics.orderEvents, groupId }),
      async (message) => {
        seen.add(readHeaders(message.headers)[KafkaHeaders.messageId] ?? '');
      },
    );
    await consumer.start();
    try {
      await waitFor(
        'the group to consume and commit everything',
        async () => {
          const lags = await kafka.consumerLag([{ topic: Topics.orderEvents, groupId }]);
          return events.every((e) => seen.has(e.messageId)) && lags.every((l) => l.lag === 0);
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
    } finally {
      await consumer.stop();
    }
  });
});

describe('trace context through the brokers', () => {
  it('runs the Kafka handler in a consumer span of the trace the producer had', async () => {
    const groupId = `trace-${randomUUID()}`;
    const event = orderCreated();
    const sentIn = await withSpan('test send', {}, async (span) => {
      await kafka.send([recordFor(Topics.orderEvents, event.data.orderId, event)]);
      return span.spanContext();
    });
    let handlerTrace: string | undefined;
    const consumer = new KafkaGroupConsumer(
      kafka,
      defineKafkaSubscription({ topic: Topics.orderEvents, groupId }),
      async (message) => {
        if (readHeaders(message.headers)[KafkaHeaders.messageId] !== event.messageId) return;
        // Whatever the handler would send carries the trace of the record it handles.
        const record = recordFor(Topics.orderEvents, 'k', orderCreated());
        handlerTrace = parseTraceparent(record.headers[KafkaHeaders.traceparent])?.traceId;
      },
    );
    await consumer.start();
    try {
      await waitFor('the record to be handled', () => handlerTrace !== undefined, { timeoutMs: 30_000 });
    } finally {
      await consumer.stop();
    }
    expect(handlerTrace).toBe(sentIn.traceId);
  });
});
