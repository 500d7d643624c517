import { execFileSync } from 'node:child_process';
import amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { testEnv } from '@am/testing';
import { nativePassword } from '../nest/service-config.js';
import { CONSOLE_USER } from './rabbitmq-provisioner.js';
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_EXCHANGE,
  Exchanges,
  Queues,
  deadLetterQueue,
  replyQueueName,
  retryQueue,
  type ServiceName,
} from '../topology.js';

// The service users' permissions as the provisioner sets them (this run's vhost), tried on the real broker: what a
// service's credentials can publish, and what the broker refuses with ACCESS_REFUSED.
const env = testEnv();
const connections: amqp.ChannelModel[] = [];

afterAll(async () => {
  await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
  // Whatever the accepted publishes left on the retry and dead letter queues of analytics-tracking goes.
  const admin = await amqp.connect(env.adminAmqpUrl);
  const channel = await admin.createChannel();
  for (const queue of [
    retryQueue(Queues.analyticsTracking, 1),
    deadLetterQueue(Queues.analyticsTracking),
    Queues.mailBulk,
  ])
    await channel.purgeQueue(queue);
  await admin.close();
});

/** Publishes one message as `service` on a confirm channel: 'accepted', or the broker's refusal. */
async function publishAs(service: ServiceName, exchange: string, routingKey: string): Promise<string> {
  const connection = await amqp.connect(env.rabbitmqUrl(service));
  connections.push(connection);
  const channel = await connection.createConfirmChannel();
  let closedWith = '';
  channel.on('error', (error: Error) => (closedWith = error.message));
  try {
    channel.publish(exchange, routingKey, Buffer.from('{"forged":true}'), { persistent: true, expiration: '60000' });
    await channel.waitForConfirms();
    return 'accepted';
  } catch (error) {
    // The broker closes the channel: its reason arrives as the channel's error.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return closedWith || (error as Error).message;
  }
}

/** Runs `operation` as `service` on a fresh channel: 'allowed', or the broker's refusal. */
async function tryAs(service: ServiceName, operation: (channel: amqp.Channel) => Promise<unknown>): Promise<string> {
  const connection = await amqp.connect(env.rabbitmqUrl(service));
  connections.push(connection);
  connection.on('error', () => undefined);
  const channel = await connection.createChannel();
  let closedWith = '';
  channel.on('error', (error: Error) => (closedWith = error.message));
  try {
    await operation(channel);
    return 'allowed';
  } catch (error) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return closedWith || (error as Error).message;
  }
}

const exclusive = { exclusive: true, autoDelete: true, durable: false } as const;

describe('RabbitMQ permissions of request/reply (a reply queue per process, answers through replies)', () => {
  const mine = replyQueueName('orders', randomUUID());

  it('lets orders declare, bind to replies and consume its own reply queue, and nothing else', async () => {
    expect(
      await tryAs('orders', async (c) => {
        await c.assertQueue(mine, exclusive);
        await c.bindQueue(mine, Exchanges.replies, mine);
        await c.consume(mine, () => undefined, { noAck: true });
      }),
    ).toBe('allowed');
    // Names outside its prefix, or not an instance id: refused.
    for (const name of [
      replyQueueName('inventory', randomUUID()),
      'orders.replies.not-an-id',
      'orders.replies.',
      `x${mine}`,
      Queues.orderProcessing,
    ]) {
      expect(await tryAs('orders', (c) => c.assertQueue(name, exclusive)), name).toMatch(/ACCESS_REFUSED/);
    }
    // Its reply queue bound elsewhere (to read others' messages), or under a key that is not its own: refused.
    const bindAs = (exchange: string, key: string) =>
      tryAs('orders', async (c) => {
        const queue = replyQueueName('orders', randomUUID());
        await c.assertQueue(queue, exclusive);
        await c.bindQueue(queue, exchange, key);
      });
    expect(await bindAs(Exchanges.sagaReplies, 'order-saga')).toMatch(/ACCESS_REFUSED/);
    expect(await bindAs(Exchanges.sagaCommands, Queues.inventoryReserve)).toMatch(/ACCESS_REFUSED/);
    expect(await bindAs(Exchanges.queries, Queues.inventoryQueries)).toMatch(/ACCESS_REFUSED/);
    expect(await bindAs(Exchanges.replies, '#')).toMatch(/ACCESS_REFUSED/);
    expect(await bindAs(Exchanges.replies, replyQueueName('payments', randomUUID()))).toMatch(/ACCESS_REFUSED/);
    // Nor may it read a queue that is not its own: inventory's requests.
    expect(await tryAs('orders', (c) => c.get(Queues.inventoryQueries))).toMatch(/ACCESS_REFUSED/);
  });

  it('lets no other service declare a reply queue, not even under its own name', async () => {
    for (const service of ['inventory', 'payments', 'audit'] as const) {
      expect(await tryAs(service, (c) => c.assertQueue(replyQueueName(service, randomUUID()), exclusive))).toMatch(
        /ACCESS_REFUSED/,
      );
      expect(await tryAs(service, (c) => c.assertQueue(replyQueueName('orders', randomUUID()), exclusive))).toMatch(
        /ACCESS_REFUSED/,
      );
    }
  });

  it("lets inventory send its answer only through replies, to a requester's reply queue", async () => {
    // Through replies, to a reply queue's name: accepted.
    expect(await publishAs('inventory', Exchanges.replies, mine)).toBe('accepted');
    // Through replies to anything else (a saga queue, the saga's reply key, a wildcard): refused by the topic
    // permission, so replies cannot become a way into other queues.
    for (const key of [Queues.orderProcessing, 'order-saga', Queues.inventoryQueries, '#', 'orders.replies.x']) {
      expect(await publishAs('inventory', Exchanges.replies, key), key).toMatch(/ACCESS_REFUSED/);
    }
    // Straight to the reply queue (the default exchange, as direct reply-to would need), or on queries: refused.
    expect(await publishAs('inventory', DEFAULT_EXCHANGE, mine)).toMatch(/ACCESS_REFUSED/);
    expect(await publishAs('inventory', Exchanges.queries, Queues.inventoryQueries)).toMatch(/ACCESS_REFUSED/);
    // And no other service may answer, nor ask: only orders publishes to queries.
    expect(await publishAs('payments', Exchanges.replies, mine)).toMatch(/ACCESS_REFUSED/);
    expect(await publishAs('orders', Exchanges.replies, mine)).toMatch(/ACCESS_REFUSED/);
    expect(await publishAs('payments', Exchanges.queries, Queues.inventoryQueries)).toMatch(/ACCESS_REFUSED/);
    expect(await publishAs('orders', Exchanges.queries, Queues.inventoryQueries)).toBe('accepted');
  });
});

describe('RabbitMQ permissions of the service users (least privilege, on the broker)', () => {
  it('refuses every service the default exchange, which would reach any queue by name', async () => {
    // With the analytics user's password, a forged payment.process command; with inventory's, a forged user event.
    expect(await publishAs('analytics', DEFAULT_EXCHANGE, Queues.paymentProcess)).toMatch(/ACCESS_REFUSED/);
    expect(await publishAs('inventory', DEFAULT_EXCHANGE, Queues.paymentsAccounts)).toMatch(/ACCESS_REFUSED/);
    expect(await publishAs('orders', DEFAULT_EXCHANGE, Queues.orderProcessing)).toMatch(/ACCESS_REFUSED/);
  });

  it('refuses an exchange the service does not publish to', async () => {
    expect(await publishAs('analytics', Exchanges.sagaCommands, Queues.paymentProcess)).toMatch(/ACCESS_REFUSED/);
    expect(await publishAs('email', Exchanges.userEvents, '')).toMatch(/ACCESS_REFUSED/);
    expect(await publishAs('payments', Exchanges.replays, Queues.paymentProcess)).toMatch(/ACCESS_REFUSED/);
  });

  it('lets only email write the mail exchange, and nobody the mail lanes by their alternate exchange', async () => {
    // A forged `mail.send` from orders would send any text to any address in the shop's name.
    for (const service of ['orders', 'payments', 'inventory', 'analytics', 'audit'] as const) {
      expect(await publishAs(service, Exchanges.mail, ''), service).toMatch(/ACCESS_REFUSED/);
    }
    // Internal: only the broker routes into it, as the alternate exchange of `mail` (email needs no permission on it).
    expect(await publishAs('email', Exchanges.mailUnrouted, '')).toMatch(/ACCESS_REFUSED/);
    // Its own jobs: accepted (with no headers they reach the bulk lane through the alternate exchange).
    expect(await publishAs('email', Exchanges.mail, '')).toBe('accepted');
  });

  it("holds each service to its own queues' retry and dead letter queues", async () => {
    // Another service's retry queue would lead, after the delay, into that service's queue.
    expect(await publishAs('analytics', Exchanges.retries, retryQueue(Queues.paymentProcess, 1))).toMatch(
      /ACCESS_REFUSED/,
    );
    expect(await publishAs('analytics', Exchanges.deadLetters, deadLetterQueue(Queues.paymentProcess))).toMatch(
      /ACCESS_REFUSED/,
    );
    // Its own: accepted (this is how its consumer retries and dead-letters).
    expect(await publishAs('analytics', Exchanges.retries, retryQueue(Queues.analyticsTracking, 1))).toBe('accepted');
    expect(await publishAs('analytics', Exchanges.deadLetters, deadLetterQueue(Queues.analyticsTracking))).toBe(
      'accepted',
    );
  });

  it('serves the management UI and API (the admin of every vhost) on loopback only, as infra/up sets it', () => {
    const port = new URL(env.admin.managementUrl).port || '15672';
    const listening = execFileSync('ss', ['-ltnH', `( sport = :${port} )`], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[3]);
    expect(listening.length).toBeGreaterThan(0);
    expect(
      listening.every((address) => address?.startsWith('127.0.0.1:')),
      listening.join(', '),
    ).toBe(true);
  });

  it("lets the control room's account read every queue's statistics and nothing else", async () => {
    const password = nativePassword('rabbitmq', CONSOLE_USER);
    const auth = `Basic ${Buffer.from(`${CONSOLE_USER}:${password}`).toString('base64')}`;
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${env.admin.managementUrl}/api${path}`, {
        ...init,
        headers: { authorization: auth, 'content-type': 'application/json' },
      });
    const vhost = encodeURIComponent(env.vhost);
    const queues = await api(`/queues/${vhost}?columns=name,messages_ready`);
    expect(queues.status).toBe(200);
    const names = ((await queues.json()) as { name: string }[]).map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining([Queues.orderProcessing, deadLetterQueue(Queues.orderProcessing)]));
    // Reading a message through the API, publishing through it, deleting a queue: refused.
    const get = await api(`/queues/${vhost}/${encodeURIComponent(Queues.orderProcessing)}/get`, {
      method: 'POST',
      body: JSON.stringify({ count: 1, ackmode: 'ack_requeue_true', encoding: 'auto' }),
    });
    expect(get.status).toBeGreaterThanOrEqual(400);
    const publish = await api(`/exchanges/${vhost}/${Exchanges.orderTasks}/publish`, {
      method: 'POST',
      body: JSON.stringify({
        properties: {},
        routing_key: Queues.orderProcessing,
        payload: 'x',
        payload_encoding: 'string',
      }),
    });
    expect(await publish.text()).toMatch(/ACCESS_REFUSED/);
    const remove = await api(`/queues/${vhost}/${encodeURIComponent(Queues.orderProcessing)}`, { method: 'DELETE' });
    expect(remove.status).toBeGreaterThanOrEqual(400);
    // Over AMQP: consuming a queue is refused.
    const connection = await amqp.connect(
      `amqp://${CONSOLE_USER}:${encodeURIComponent(password)}@${new URL(env.admin.managementUrl).hostname}:5672/${vhost}`,
    );
    connections.push(connection);
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    await expect(channel.consume(Queues.orderProcessing, () => undefined)).rejects.toThrow(/ACCESS_REFUSED/);
  });
});
