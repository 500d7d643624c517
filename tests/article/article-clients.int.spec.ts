// The article's own listings (its producer and consumer of `order-processing`, its three `user-events` subscribers)
// run unchanged against the project's vhost, as the account made for them (docs/security.md#the-articles-own-clients),
// which can reach nothing else of the design. The functions below are the article's, with its `process.env` and
// `getChannel` pointed at this run's vhost and its side effects recorded.
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTICLE_USER, Exchanges, Queues, RabbitManagement, articlePermissions, nativePassword } from '@am/messaging';
import { testEnv, waitFor } from '@am/testing';

const env = testEnv();
const enc = encodeURIComponent;
const articleUrl = `amqp://${ARTICLE_USER}:${enc(nativePassword('rabbitmq', ARTICLE_USER))}@127.0.0.1:5672/${enc(env.vhost)}`;
const connections: amqp.ChannelModel[] = [];
const open = async () => {
  const connection = await amqp.connect(articleUrl);
  connection.on('error', () => undefined);
  connections.push(connection);
  return connection;
};
const getChannel = async () => (await open()).createChannel();

beforeAll(async () => {
  // What the provisioner does natively for the project's vhost, here for this run's.
  const api = new RabbitManagement(env.admin);
  await api.request('PUT', `/users/${enc(ARTICLE_USER)}`, {
    password: nativePassword('rabbitmq', ARTICLE_USER),
    tags: '',
  });
  await api.request('PUT', `/permissions/${enc(env.vhost)}/${enc(ARTICLE_USER)}`, articlePermissions());
});

afterAll(async () => {
  for (const connection of connections) await connection.close().catch(() => undefined);
});

interface Order {
  id: string;
  userId: string;
  items: { sku: string; quantity: number }[];
  total: number;
}
/** What the article's consumer parses: the message its producer sent. */
interface OrderMessage {
  orderId: string;
  userId: string;
  total: number;
}
const processed: OrderMessage[] = [];
const processOrder = async (order: OrderMessage) => void processed.push(order);

// ---- the article's "Basic Producer/Consumer Pattern" ----
async function publishOrder(order: Order) {
  const channel = await getChannel();
  await channel.assertQueue('order-processing', { durable: true });
  channel.sendToQueue(
    'order-processing',
    Buffer.from(
      JSON.stringify({
        orderId: order.id,
        userId: order.userId,
        items: order.items,
        total: order.total,
        createdAt: new Date().toISOString(),
      }),
    ),
    { persistent: true, messageId: order.id, timestamp: Date.now() },
  );
}

async function startOrderConsumer() {
  const channel = await getChannel();
  await channel.assertQueue('order-processing', { durable: true });
  await channel.prefetch(10);
  // The article's callback is async; amqplib ignores what it returns, hence `void`.
  await channel.consume('order-processing', (msg) => {
    void (async () => {
      if (!msg) return;
      try {
        const order = JSON.parse(msg.content.toString()) as OrderMessage;
        await processOrder(order);
        channel.ack(msg);
      } catch {
        channel.nack(msg, false, false);
      }
    })();
  });
}

// ---- the article's "Publish/Subscribe with a fanout exchange" ----
const received: Record<string, unknown[]> = { email: [], analytics: [], audit: [] };
async function startSubscriber(name: keyof typeof received, queueName: string) {
  const channel = await getChannel();
  await channel.assertExchange('user-events', 'fanout', { durable: true });
  const queue = await channel.assertQueue(queueName, { durable: true });
  await channel.bindQueue(queue.queue, 'user-events', '');
  await channel.consume(queue.queue, (msg) => {
    if (!msg) return;
    received[name]!.push(JSON.parse(msg.content.toString()));
    channel.ack(msg);
  });
}
async function publishUserRegistered(userId: string) {
  const channel = await getChannel();
  await channel.assertExchange('user-events', 'fanout', { durable: true });
  channel.publish('user-events', '', Buffer.from(JSON.stringify({ type: 'user.registered', data: { userId } })), {
    persistent: true,
  });
}

/** 'ok', or the broker's refusal, for an operation on a fresh channel of the article's account. */
async function attempt(operation: (channel: amqp.Channel) => Promise<unknown>): Promise<string> {
  const channel = await getChannel();
  const closed = new Promise<string>((resolve) => channel.on('error', (e: Error) => resolve(e.message)));
  try {
    await operation(channel);
    return await Promise.race([closed, new Promise<string>((r) => setTimeout(() => r('ok'), 500))]);
  } catch (error) {
    return (error as Error).message;
  }
}

describe("the article's own clients, against the project's vhost", () => {
  it('its producer and consumer of order-processing work as the article wrote them', async () => {
    await startOrderConsumer();
    const order = { id: randomUUID(), userId: 'u-1', items: [{ sku: 'BOOK', quantity: 1 }], total: 1_250 };
    await publishOrder(order);
    await waitFor('the order to be processed', () => processed.some((o) => o.orderId === order.id), {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
  });

  it('its three fanout subscribers each get a copy of one user.registered', async () => {
    await startSubscriber('email', Queues.emailNotifications);
    await startSubscriber('analytics', Queues.analyticsTracking);
    await startSubscriber('audit', Queues.auditLog);
    await publishUserRegistered('u-2');
    await waitFor('a copy per subscriber', () => Object.values(received).every((r) => r.length === 1), {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
  });

  it('and reaches nothing else of the design: no saga command, no other queue, nothing new declared', async () => {
    expect(
      await attempt(async (c) => c.publish(Exchanges.sagaCommands, Queues.paymentProcess, Buffer.from('{}'))),
    ).toMatch(/ACCESS_REFUSED.*saga-commands/);
    expect(await attempt((c) => c.consume(Queues.inventoryReserve, () => undefined))).toMatch(
      /ACCESS_REFUSED.*inventory\.reserve/,
    );
    expect(await attempt((c) => c.assertQueue(`article-own-${env.runId}`, { durable: true }))).toMatch(
      /ACCESS_REFUSED/,
    );
    expect(await attempt((c) => c.consume(`${Queues.orderProcessing}-dlq`, () => undefined))).toMatch(/ACCESS_REFUSED/);
  });
});
