import { randomUUID } from 'node:crypto';
import type { Channel, ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PlaceOrder } from '@am/contracts';
import { testEnv, waitFor } from '@am/testing';
import { InvalidMessageError, UnroutableMessageError } from '../errors.js';
import { DependencyBreakers } from '../outage/dependency-breakers.js';
import { silentLogger } from '../logger.js';
import { DEFAULT_EXCHANGE, Exchanges, Queues, deadLetterQueue, retryQueue } from '../topology.js';
import { AmqpClient } from './amqp-client.js';
import { AmqpConsumer, RetryHeaders } from './amqp-consumer.js';
import { defineSubscription } from './amqp-subscription.js';

// Real RabbitMQ, in this test run's own vhost with the whole topology provisioned.
const env = testEnv();
const queue = Queues.orderProcessing;
let client: AmqpClient;
let inspect: Channel;

const task = () =>
  PlaceOrder.create(
    {
      orderId: randomUUID(),
      userId: randomUUID(),
      items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }],
      total: 100,
      placedAt: new Date().toISOString(),
    },
    { correlationId: randomUUID() },
  );

async function drain(name: string): Promise<ConsumeMessage[]> {
  const out: ConsumeMessage[] = [];
  for (;;) {
    const message = await inspect.get(name, { noAck: true });
    if (!message) return out;
    out.push(message as unknown as ConsumeMessage);
  }
}

beforeAll(async () => {
  client = new AmqpClient({ url: env.adminAmqpUrl, connectionName: 'amqp.int.spec' });
  await client.connect();
  inspect = await client.createChannel();
});

afterAll(async () => {
  await client.close();
});

beforeEach(async () => {
  for (const name of [
    queue,
    deadLetterQueue(queue),
    retryQueue(queue, 1),
    retryQueue(queue, 2),
    retryQueue(queue, 3),
  ]) {
    await inspect.purgeQueue(name);
  }
});

describe('RabbitMQ publishing', () => {
  it('resolves only after the broker confirmed a persistent message, with the ids in the AMQP properties', async () => {
    const message = task();
    await client.publish(DEFAULT_EXCHANGE, queue, message);
    const [received] = await waitFor('the message in its queue', async () => {
      const got = await drain(queue);
      return got.length > 0 ? got : undefined;
    });
    expect(received?.properties).toMatchObject({
      deliveryMode: 2,
      messageId: message.messageId,
      type: 'order.place',
      correlationId: message.correlationId,
      contentType: 'application/json',
    });
    expect(JSON.parse(received!.content.toString())).toEqual(message);
  });

  it('rejects a mandatory message that no queue receives, instead of dropping it silently', async () => {
    const error = await client.publish(Exchanges.sagaCommands, 'no-such-route', task()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnroutableMessageError);
    expect((error as Error).message).toMatch(/routing key "no-such-route" was returned: NO_ROUTE/);
  });
});

describe('RabbitMQ consuming', () => {
  async function consume(handle: (m: ConsumeMessage) => Promise<void>, retryDelaysMs = [50, 50, 50]) {
    const consumer = new AmqpConsumer(client, defineSubscription({ queue, prefetch: 5, retryDelaysMs }), handle);
    await client.addChannelUser(consumer);
    return consumer;
  }

  it('acknowledges after the handler succeeded: the queue ends empty', async () => {
    const seen: string[] = [];
    const consumer = await consume(async (m) => {
      seen.push(m.properties.messageId as string);
    });
    const messages = [task(), task(), task()];
    await Promise.all(messages.map((m) => client.publish(DEFAULT_EXCHANGE, queue, m)));
    await waitFor('three deliveries', () => seen.length === 3);
    await consumer.stop();
    expect(seen.sort()).toEqual(messages.map((m) => m.messageId).sort());
    expect(await inspect.checkQueue(queue)).toMatchObject({ messageCount: 0 });
  });

  it('writes one info line per handled message, with its type, ids, outcome and duration', async () => {
    const lines: { obj: Record<string, unknown>; msg?: string }[] = [];
    const logger = { ...silentLogger, info: (obj: object, msg?: string) => lines.push({ obj: { ...obj }, msg }) };
    const consumer = new AmqpConsumer(client, defineSubscription({ queue, prefetch: 5 }), async () => undefined, {
      logger,
    });
    await client.addChannelUser(consumer);
    const messages = [task(), task()];
    await Promise.all(messages.map((m) => client.publish(DEFAULT_EXCHANGE, queue, m)));
    const handled = () => lines.filter((l) => l.msg === 'amqp: message handled');
    await waitFor('two lines', () => handled().length === 2);
    await consumer.stop();
    expect(
      handled()
        .map((l) => l.obj.messageId)
        .sort(),
    ).toEqual(messages.map((m) => m.messageId).sort());
    for (const line of handled()) {
      const message = messages.find((m) => m.messageId === line.obj.messageId)!;
      expect(line.obj).toMatchObject({
        queue,
        messageType: message.type,
        correlationId: message.correlationId,
        outcome: 'handled',
        durationMs: expect.any(Number),
      });
    }
  });

  it('retries a failing message three times with x-retry-count, then dead-letters it with the reason', async () => {
    const attempts: number[] = [];
    const consumer = await consume(async (m) => {
      attempts.push(Number(m.properties.headers?.[RetryHeaders.retryCount] ?? 0));
      throw new Error('inventory database is down');
    });
    const message = task();
    await client.publish(DEFAULT_EXCHANGE, queue, message);
    const [dead] = await waitFor('the dead letter', async () => {
      const got = await drain(deadLetterQueue(queue));
      return got.length > 0 ? got : undefined;
    });
    await consumer.stop();
    expect(attempts).toEqual([0, 1, 2, 3]);
    expect(dead!.properties.messageId).toBe(message.messageId);
    expect(dead!.properties.headers).toMatchObject({
      [RetryHeaders.retryCount]: 3,
      [RetryHeaders.error]: 'Error: inventory database is down',
      [RetryHeaders.originalQueue]: queue,
    });
    expect(JSON.parse(dead!.content.toString())).toEqual(message);
    expect(await inspect.checkQueue(queue)).toMatchObject({ messageCount: 0 });
  });

  it('dead-letters an invalid message on the first attempt', async () => {
    let attempts = 0;
    const consumer = await consume(async () => {
      attempts += 1;
      throw new InvalidMessageError('invalid order.place: data.total: expected number');
    });
    await client.publish(DEFAULT_EXCHANGE, queue, task());
    const [dead] = await waitFor('the dead letter', async () => {
      const got = await drain(deadLetterQueue(queue));
      return got.length > 0 ? got : undefined;
    });
    await consumer.stop();
    expect(attempts).toBe(1);
    expect(dead!.properties.headers).toMatchObject({
      [RetryHeaders.retryCount]: 0,
      [RetryHeaders.error]: 'InvalidMessageError: invalid order.place: data.total: expected number',
    });
  });

  it('a message rejected without requeue lands in its dead letter queue by policy', async () => {
    const raw = await client.createChannel();
    await client.publish(DEFAULT_EXCHANGE, queue, task());
    const message = await waitFor('a message to get', async () => (await raw.get(queue)) || undefined);
    raw.nack(message, false, false);
    const dead = await waitFor('the dead letter', async () => {
      const got = await drain(deadLetterQueue(queue));
      return got.length > 0 ? got : undefined;
    });
    await raw.close();
    expect(dead).toHaveLength(1);
  });

  it('holds no more than prefetch unacknowledged messages at once', async () => {
    let inFlight = 0;
    let peak = 0;
    const consumer = await consume(async () => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight -= 1;
    });
    await Promise.all(Array.from({ length: 30 }, () => client.publish(DEFAULT_EXCHANGE, queue, task())));
    await waitFor(
      'the queue to drain',
      async () => (await inspect.checkQueue(queue)).messageCount === 0 && inFlight === 0,
    );
    await consumer.stop();
    expect(peak).toBe(5);
  });

  it('pauses while the database is down: no retry counted, nothing dead-lettered, everything handled after', async () => {
    // The "database" is a flag; the handler fails the way `pg` does when the server is shutting down.
    let databaseUp = false;
    const attempts = new Map<string, number[]>();
    const handled = new Set<string>();
    const breakers = new DependencyBreakers({
      probes: { postgres: () => databaseUp },
      initialProbeDelayMs: 50,
      maxProbeDelayMs: 200,
      logger: silentLogger,
    });
    const consumer = new AmqpConsumer(
      client,
      defineSubscription({ queue, prefetch: 5, retryDelaysMs: [50, 50, 50] }),
      async (m) => {
        const id = m.properties.messageId as string;
        const counts = attempts.get(id) ?? [];
        counts.push(Number(m.properties.headers?.[RetryHeaders.retryCount] ?? 0));
        attempts.set(id, counts);
        if (!databaseUp) {
          throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
        }
        handled.add(id);
      },
      { breakers },
    );
    await client.addChannelUser(consumer);
    const messages = Array.from({ length: 20 }, task);
    await Promise.all(messages.map((m) => client.publish(DEFAULT_EXCHANGE, queue, m)));

    // The first failure opens the breaker: the consumer cancels its subscription and gives back what it holds.
    await waitFor('the breaker to open and the consumer to pause', () => breakers.anyOpen && !consumer.isConsuming);
    await waitFor('the queue to hold every message again, with no consumer', async () => {
      const q = await inspect.checkQueue(queue);
      return q.messageCount === messages.length && q.consumerCount === 0;
    });
    // Far longer than the whole retry budget (150 ms): still nothing moved towards the dead letter queue.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const attemptsDuringOutage = [...attempts.values()].reduce((n, a) => n + a.length, 0);
    expect(attemptsDuringOutage).toBeLessThanOrEqual(5);
    for (const name of [deadLetterQueue(queue), retryQueue(queue, 1), retryQueue(queue, 2), retryQueue(queue, 3)])
      expect(await inspect.checkQueue(name), name).toMatchObject({ messageCount: 0 });

    databaseUp = true;
    await waitFor('every message handled after the database returned', () => handled.size === messages.length);
    await consumer.stop();
    expect(consumer.isConsuming).toBe(false);
    for (const counts of attempts.values())
      expect(
        counts.every((c) => c === 0),
        'no retry was counted',
      ).toBe(true);
    expect(await inspect.checkQueue(queue)).toMatchObject({ messageCount: 0 });
    expect(await inspect.checkQueue(deadLetterQueue(queue))).toMatchObject({ messageCount: 0 });
  });

  it('still dead-letters a poison message at once after an outage, with the reason', async () => {
    let databaseUp = false;
    const breakers = new DependencyBreakers({
      probes: { postgres: () => databaseUp },
      initialProbeDelayMs: 50,
      logger: silentLogger,
    });
    const poison = task();
    const consumer = new AmqpConsumer(
      client,
      defineSubscription({ queue, prefetch: 5, retryDelaysMs: [50, 50, 50] }),
      async (m) => {
        if (!databaseUp) throw new Error('Connection terminated unexpectedly');
        if (m.properties.messageId === poison.messageId) throw new InvalidMessageError('data.total: expected number');
      },
      { breakers },
    );
    await client.addChannelUser(consumer);
    await client.publish(DEFAULT_EXCHANGE, queue, poison);
    await waitFor('the consumer to pause', () => breakers.anyOpen && !consumer.isConsuming);
    expect(await drain(deadLetterQueue(queue))).toHaveLength(0);
    databaseUp = true;
    const [dead] = await waitFor('the dead letter', async () => {
      const got = await drain(deadLetterQueue(queue));
      return got.length > 0 ? got : undefined;
    });
    await consumer.stop();
    expect(dead!.properties.headers).toMatchObject({
      [RetryHeaders.retryCount]: 0,
      [RetryHeaders.error]: 'InvalidMessageError: data.total: expected number',
    });
  });
});
