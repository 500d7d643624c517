import { randomUUID } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderCancelled, OrderConfirmed, OrderCreated, type OrderEvent } from '@am/contracts';
import {
  DependencyBreakers,
  KafkaClient,
  KafkaHeaders,
  KafkaProjectionConsumer,
  Topics,
  readHeaders,
  recordFor,
  replayTopic,
  silentLogger,
  type KafkaProjection,
} from '@am/messaging';
import { createServiceDataSource, migrate } from '@am/persistence';
import { isolatedWorld, testEnv, waitFor } from '@am/testing';
import { migrations } from '../migrations/index.js';
import { orderEventsProjection } from './order-events.subscription.js';

// Real Kafka and PostgreSQL: the analytics projection of order-events with its offsets kept in the projection's
// transaction (topics and a database of this file's own, so every count is exact).
let db: DataSource;
let kafka: KafkaClient;
let groupId: string;
/** Every event the projection was given, in the order it was given them. */
const given: OrderEvent[] = [];
const counting: KafkaProjection = {
  ...orderEventsProjection,
  project: async (manager, events) => {
    await orderEventsProjection.project(manager, events);
    given.push(...(events as OrderEvent[]));
  },
};
let consumer: KafkaProjectionConsumer | undefined;
/** As the service has them: an outage of PostgreSQL or Kafka pauses the consumer instead of failing records. */
let breakers: DependencyBreakers;

const startConsumer = async () => {
  consumer = new KafkaProjectionConsumer(
    kafka,
    { ...counting, subscription: { ...counting.subscription, groupId, retryDelaysMs: [50, 50] } },
    db,
    { logger: silentLogger, breakers },
  );
  await consumer.start();
};

const orders = (count: number) =>
  Array.from({ length: count }, (_, i) => {
    const orderId = randomUUID();
    const data = { orderId, userId: `u${i % 7}`, total: 100 + i };
    const created = OrderCreated.create(
      { ...data, items: [{ sku: 'S', quantity: 1, unitPrice: data.total }] },
      {
        correlationId: orderId,
      },
    );
    const outcome =
      i % 3 === 0
        ? OrderCancelled.create({ ...data, reason: 'out_of_stock' }, { correlationId: orderId })
        : OrderConfirmed.create(data, { correlationId: orderId });
    return { created, outcome };
  });

/** Kafka's end offset per partition of the run's order-events, and the table's stored positions. */
async function positions() {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(kafka.name(Topics.orderEvents)).finally(() => admin.disconnect());
  const stored: { partition: number; next_offset: string }[] = await db.query(
    'SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2 ORDER BY partition',
    [kafka.name(groupId), kafka.name(Topics.orderEvents)],
  );
  return {
    ends: Object.fromEntries(ends.map((o) => [o.partition, Number(o.high)])),
    stored: Object.fromEntries(stored.map((r) => [r.partition, Number(r.next_offset)])),
  };
}

const caughtUp = async () => {
  const { ends, stored } = await positions();
  return Object.entries(ends).every(([p, end]) => end === 0 || stored[Number(p)] === end);
};

beforeAll(async () => {
  const world = await isolatedWorld('analytics', 'projection');
  kafka = new KafkaClient({
    brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'],
    clientId: 'projection.int',
    credentials: testEnv().kafkaAdmin,
    prefix: world.kafkaPrefix,
  });
  await kafka.connectProducer();
  db = createServiceDataSource({ url: world.databaseUrl, migrations });
  await db.initialize();
  await migrate(db);
  groupId = `analytics-${randomUUID().slice(0, 8)}`;
  breakers = new DependencyBreakers({
    probes: { postgres: async () => (await db.query<unknown[]>('SELECT 1')).length === 1 },
    endpoints: [
      { dependency: 'postgres', port: 5432 },
      { dependency: 'kafka', port: 9092 },
    ],
    logger: silentLogger,
  });
});

afterAll(async () => {
  breakers?.stop();
  await consumer?.stop();
  await kafka?.close();
  await db?.destroy();
});

describe('analytics order-events projection (offsets kept in the projection transaction)', () => {
  it('applies batches set-based, sends a poison record alone to the dead letter topic, and stores each position', async () => {
    const batch = orders(400);
    const poisonKey = batch[17]!.created.data.orderId; // same key: same partition as that order's events
    await kafka.send([
      ...batch.slice(0, 200).map(({ created }) => recordFor(Topics.orderEvents, created.data.orderId, created)),
      { topic: Topics.orderEvents, key: poisonKey, value: Buffer.from('{"not": "an envelope"'), headers: {} },
      ...batch.slice(200).map(({ created }) => recordFor(Topics.orderEvents, created.data.orderId, created)),
      ...batch.map(({ outcome }) => recordFor(Topics.orderEvents, outcome.data.orderId, outcome)),
    ]);
    await startConsumer();
    await waitFor('the projection to reach the end of every partition', caughtUp, { timeoutMs: 60_000 });

    const counts: { status: string; n: string; revenue: string }[] = await db.query(
      `SELECT status, count(*) AS n, sum(total) AS revenue FROM order_stats GROUP BY status ORDER BY status`,
    );
    const cancelled = batch.filter((_, i) => i % 3 === 0);
    const confirmed = batch.filter((_, i) => i % 3 !== 0);
    expect(counts).toEqual([
      {
        status: 'CANCELLED',
        n: String(cancelled.length),
        revenue: String(cancelled.reduce((s, o) => s + o.created.data.total, 0)),
      },
      {
        status: 'CONFIRMED',
        n: String(confirmed.length),
        revenue: String(confirmed.reduce((s, o) => s + o.created.data.total, 0)),
      },
    ]);
    // Each valid record given once; the poison one never (it failed its batch, then alone, then went to the DLT).
    expect(given).toHaveLength(800);
    expect(new Set(given.map((e) => e.messageId)).size).toBe(800);

    const dead = await readDeadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]!.key!.toString()).toBe(poisonKey);
    const headers = readHeaders(dead[0]!.headers);
    expect(headers[KafkaHeaders.consumerGroup]).toBe(kafka.name(groupId));
    expect(headers[KafkaHeaders.attempts]).toBe('1'); // invalid: permanent, no retries
    expect(headers[KafkaHeaders.error]).toContain('InvalidMessageError');
  }, 90_000);

  it('skips what the table says was applied, even when Kafka offers it again, and reads again what it says was not', async () => {
    await consumer!.stop();
    // Kafka's committed offsets back to 0: Kafka now offers every record again. The table's positions decide.
    const admin = kafka.admin();
    await admin.connect();
    await admin
      .resetOffsets({ groupId: kafka.name(groupId), topic: kafka.name(Topics.orderEvents), earliest: true })
      .finally(() => admin.disconnect());
    given.length = 0;
    const more = orders(10);
    await kafka.send(more.map(({ created }) => recordFor(Topics.orderEvents, created.data.orderId, created)));
    await startConsumer();
    await waitFor('the 10 new records', async () => (await caughtUp()) && given.length >= 10, { timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(given.map((e) => e.messageId).sort()).toEqual(more.map((o) => o.created.messageId).sort());

    // And the other way: the table behind Kafka (a restored database) makes the consumer seek back to it.
    await consumer!.stop();
    const { stored } = await positions();
    const [partition, next] = Object.entries(stored).find(([, n]) => n >= 5)!;
    await db.query('UPDATE consumer_offsets SET next_offset = next_offset - 5 WHERE group_id = $1 AND partition = $2', [
      kafka.name(groupId),
      Number(partition),
    ]);
    given.length = 0;
    await startConsumer();
    await waitFor('the 5 records after the stored position', async () => (await caughtUp()) && given.length >= 5, {
      timeoutMs: 60_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(given).toHaveLength(5);
    expect((await positions()).stored[Number(partition)]).toBe(next);
  }, 150_000);

  it("applies a record of the group's replay topic, its position kept in the same table", async () => {
    // Given order events the group applied, then dead letters of them replayed by audit to its replay topic (copies:
    // the projection is idempotent, one row per order whose status only moves forward)
    const replay = replayTopic(Topics.orderEvents, 'analytics');
    const applied = async () => {
      const { created } = orders(1)[0]!;
      await kafka.send([recordFor(Topics.orderEvents, created.data.orderId, created)]);
      await waitFor('the event', async () => given.some((e) => e.messageId === created.messageId), {
        timeoutMs: 60_000,
      });
      return created;
    };
    const replayed = (created: OrderCreated) =>
      kafka.send([recordFor(replay, created.data.orderId, created, { 'x-replayed-from': 'order-events/0/1' })]);
    const first = await applied();
    await consumer!.stop();
    given.length = 0;
    await replayed(first);
    // When the group's member runs: it reads its replay topic beside order-events
    await startConsumer();
    await waitFor('the replayed record', async () => given.length >= 1, { timeoutMs: 60_000 });
    // Then it is given to the projection, and the replay topic's position is stored like order-events' (per topic and
    // partition)
    const storedFor = async () =>
      db.query<{ next_offset: string }[]>(
        'SELECT next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2 AND next_offset > 0',
        [kafka.name(groupId), kafka.name(replay)],
      );
    expect(await storedFor()).toEqual([{ next_offset: '1' }]);

    // And Kafka's committed offsets of the replay topic back to 0 do not give it again: the table decides
    const second = await applied();
    await consumer!.stop();
    const admin = kafka.admin();
    await admin.connect();
    await admin
      .resetOffsets({ groupId: kafka.name(groupId), topic: kafka.name(replay), earliest: true })
      .finally(() => admin.disconnect());
    given.length = 0;
    await replayed(second);
    await startConsumer();
    await waitFor('the second replayed record', async () => given.length >= 1, { timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(given.map((e) => e.messageId)).toEqual([second.messageId]);
  }, 120_000);
});

describe('stored positions of another Kafka log (a database that outlived its Kafka)', () => {
  /** The table's counts, and what the projection was given since the consumer's last start. */
  const orderCount = async () =>
    Number((await db.query<{ n: string }[]>('SELECT count(*) AS n FROM order_stats'))[0]!.n);

  it.each([
    [
      'recorded for another cluster',
      () =>
        db.query('UPDATE consumer_offset_logs SET cluster_id = $2 WHERE group_id = $1', [kafka.name(groupId), 'gone']),
    ],
    [
      'past the end of this log',
      () =>
        db.query('UPDATE consumer_offsets SET next_offset = next_offset + 100000 WHERE group_id = $1', [
          kafka.name(groupId),
        ]),
    ],
  ])(
    'empties the read model and rebuilds it from this log when the positions are %s',
    async (_, corrupt) => {
      await consumer!.stop();
      const before = await orderCount();
      expect(before).toBeGreaterThan(0);
      // A row that this log never produced: a read model of another log would keep it; a rebuild drops it.
      await db.query(
        `INSERT INTO order_stats (order_id, user_id, status, total, updated_at) VALUES ($1, 'u', 'CONFIRMED', 1, now())`,
        [randomUUID()],
      );
      await corrupt();
      given.length = 0;
      await startConsumer();
      await waitFor('the rebuild to reach the end of every partition', caughtUp, { timeoutMs: 60_000 });
      expect(await orderCount()).toBe(before);
      expect(given.length).toBeGreaterThanOrEqual(before);
      const [log] = await db.query<{ cluster_id: string }[]>(
        'SELECT cluster_id FROM consumer_offset_logs WHERE group_id = $1',
        [kafka.name(groupId)],
      );
      expect(log?.cluster_id).not.toBe('gone');
    },
    120_000,
  );

  it('refuses to start a group whose read model has no reset, rather than skip records it never read', async () => {
    await consumer!.stop();
    await db.query('UPDATE consumer_offset_logs SET cluster_id = $2 WHERE group_id = $1', [
      kafka.name(groupId),
      'gone',
    ]);
    const { reset: _reset, ...withoutReset } = counting;
    const stubborn = new KafkaProjectionConsumer(
      kafka,
      { ...withoutReset, subscription: { ...counting.subscription, groupId } },
      db,
      { logger: silentLogger, breakers },
    );
    await expect(stubborn.start()).rejects.toThrow(/another cluster|cannot be reset|cluster gone/);
    await stubborn.stop();
    const [log] = await db.query<{ cluster_id: string }[]>(
      'SELECT cluster_id FROM consumer_offset_logs WHERE group_id = $1',
      [kafka.name(groupId)],
    );
    expect(log?.cluster_id).toBe('gone');
  }, 60_000);
});

/** The dead letters of this file's topics, read from the start with a group of its own. */
async function readDeadLetters(): Promise<KafkaMessage[]> {
  const dead: KafkaMessage[] = [];
  const reader = kafka.consumer(`dlt-${randomUUID()}`);
  await reader.connect();
  await reader.subscribe({ topic: kafka.name(Topics.orderEventsDeadLetters), fromBeginning: true });
  await reader.run({ eachMessage: async ({ message }) => void dead.push(message) });
  await waitFor('the dead letter', () => dead.length > 0, { timeoutMs: 30_000 });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await reader.disconnect();
  return dead;
}
