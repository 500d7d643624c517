import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OrderCreated } from '@am/contracts';
import { messagingMigrations, createServiceDataSource, migrate } from '@am/persistence';
import { FixtureProcess, testEnv, waitFor } from '@am/testing';
import { AmqpClient } from './amqp/amqp-client.js';
import { OutboxRelay } from './outbox/outbox-relay.js';
import { DEFAULT_EXCHANGE, Queues } from './topology.js';

// Real processes killed with SIGKILL, real RabbitMQ and PostgreSQL.
const env = testEnv();
const queue = Queues.emailNotifications;
const databaseUrl = env.databaseUrl('email');
let amqp: AmqpClient;
let db: DataSource;

const event = () => {
  const orderId = randomUUID();
  return OrderCreated.create(
    { orderId, userId: randomUUID(), items: [{ sku: 'S', quantity: 1, unitPrice: 100 }], total: 100 },
    { correlationId: orderId },
  );
};

async function queueState() {
  const channel = await amqp.createChannel();
  const state = await channel.checkQueue(queue);
  await channel.close();
  return state;
}

beforeAll(async () => {
  amqp = new AmqpClient({ url: env.adminAmqpUrl, connectionName: 'delivery-modes.fault.spec' });
  await amqp.connect();
  db = createServiceDataSource({ url: databaseUrl, migrations: messagingMigrations });
  await db.initialize();
  await migrate(db);
  await db.query('CREATE TABLE IF NOT EXISTS crash_orders (id uuid PRIMARY KEY)');
});

afterAll(async () => {
  await db.query('DROP TABLE IF EXISTS crash_orders');
  await db.destroy();
  await amqp.close();
});

beforeEach(async () => {
  const channel = await amqp.createChannel();
  await channel.purgeQueue(queue);
  await channel.close();
  await db.query('TRUNCATE outbox');
});

describe('acknowledgement mode under a crash (the article: at-most-once vs at-least-once)', () => {
  async function crashMidWork(delivery: 'at-most-once' | 'at-least-once') {
    const consumer = new FixtureProcess('crash-consumer', {
      AMQP_URL: env.adminAmqpUrl,
      QUEUE: queue,
      DELIVERY: delivery,
    });
    await consumer.printed('ready');
    const message = event();
    await amqp.publish(DEFAULT_EXCHANGE, queue, message);
    expect(await consumer.printed('working')).toBe(`working ${message.messageId}`);
    await consumer.kill();
    // The broker notices the dead connection and requeues what was unacknowledged.
    await waitFor('the broker to see the consumer gone', async () => (await queueState()).consumerCount === 0);
    return (await queueState()).messageCount;
  }

  it('at-most-once (ack first) loses the message when the consumer dies mid-work', async () => {
    expect(await crashMidWork('at-most-once')).toBe(0);
  });

  it('at-least-once (ack after) keeps it: the message is back in the queue for the next consumer', async () => {
    expect(await crashMidWork('at-least-once')).toBe(1);
  });
});

describe('dual write versus transactional outbox under a crash between commit and publish', () => {
  async function crashAfterCommit(write: 'naive' | 'outbox') {
    const orderId = randomUUID();
    const writer = new FixtureProcess('dual-write', {
      DATABASE_URL: databaseUrl,
      AMQP_URL: env.adminAmqpUrl,
      QUEUE: queue,
      WRITE: write,
      ORDER_ID: orderId,
    });
    await writer.printed('committed');
    await writer.kill();
    // Whatever survives the crash gets its chance: a relay runs as it would after a restart.
    const relay = new OutboxRelay({ dataSource: db, databaseUrl, amqp, pollIntervalMs: 100, freshGraceMs: 0 });
    await relay.start();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await relay.stop();
    const stored = await db.query<unknown[]>('SELECT 1 FROM crash_orders WHERE id = $1', [orderId]);
    return { stored: stored.length === 1, published: (await queueState()).messageCount };
  }

  it('the naive dual write loses the message: the order is stored, nobody hears of it', async () => {
    expect(await crashAfterCommit('naive')).toEqual({ stored: true, published: 0 });
  });

  it('the outbox survives the same crash: the relay publishes the committed message', async () => {
    expect(await crashAfterCommit('outbox')).toEqual({ stored: true, published: 1 });
  });
});
