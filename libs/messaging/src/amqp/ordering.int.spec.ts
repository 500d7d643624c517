import { randomUUID } from 'node:crypto';
import type { Channel } from 'amqplib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PlaceOrder } from '@am/contracts';
import { testEnv, waitFor } from '@am/testing';
import { Exchanges, Queues, deadLetterQueue, retryQueues } from '../topology.js';
import { AmqpClient } from './amqp-client.js';
import { AmqpConsumer } from './amqp-consumer.js';
import { defineSubscription } from './amqp-subscription.js';

// Message ordering on RabbitMQ (docs/ordering.md), on the real broker in this run's vhost: a queue is FIFO, so one
// consumer taking one message at a time handles them in the order they were published; a retry sends the failing
// message to a delay queue and back, behind the ones that followed it: retries reorder.
const env = testEnv();
const queue = Queues.orderProcessing;
let client: AmqpClient;
let inspect: Channel;

/** `count` tasks, numbered in their correlation id so the order they are handled in can be read back. */
const tasks = (count: number) =>
  Array.from({ length: count }, (_, i) =>
    PlaceOrder.create(
      {
        orderId: randomUUID(),
        userId: randomUUID(),
        items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }],
        total: 100,
        placedAt: new Date().toISOString(),
      },
      { correlationId: `n-${i}` },
    ),
  );

/** Publishes one at a time, each confirmed before the next: the queue's order is the publish order. */
async function publishInOrder(messages: ReturnType<typeof tasks>): Promise<void> {
  for (const message of messages) await client.publish(Exchanges.orderTasks, queue, message);
}

async function consumeInto(handled: number[], failOnce: Set<number> = new Set()) {
  const consumer = new AmqpConsumer(
    client,
    defineSubscription({ queue, prefetch: 1, retryDelaysMs: [1_000, 1_000, 1_000] }),
    async (m) => {
      const n = Number(String(m.properties.correlationId).slice(2));
      if (failOnce.delete(n)) throw new Error(`task ${n} fails once`);
      handled.push(n);
    },
  );
  await client.addChannelUser(consumer);
  return consumer;
}

beforeAll(async () => {
  client = new AmqpClient({ url: env.adminAmqpUrl, connectionName: 'ordering.int.spec' });
  await client.connect();
  inspect = await client.createChannel();
});

afterAll(async () => {
  await client.close();
});

beforeEach(async () => {
  for (const name of [queue, deadLetterQueue(queue), ...retryQueues(queue)]) await inspect.purgeQueue(name);
});

describe('ordering on a RabbitMQ queue', () => {
  it('hands one consumer with prefetch 1 the messages in the order they were published', async () => {
    const handled: number[] = [];
    await publishInOrder(tasks(30));
    const consumer = await consumeInto(handled);
    await waitFor('30 handled', () => handled.length === 30);
    await consumer.stop();
    expect(handled).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('lets a retried message fall behind the ones published after it', async () => {
    const handled: number[] = [];
    await publishInOrder(tasks(10));
    const consumer = await consumeInto(handled, new Set([2]));
    await waitFor('10 handled', () => handled.length === 10, { timeoutMs: 15_000 });
    await consumer.stop();
    // Every task once; task 2 failed, waited 1 s in its retry queue, and came back after all the others.
    expect([...handled].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(handled).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9, 2]);
  });
});
