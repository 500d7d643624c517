import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountOpened, MoneyDeposited, MoneyWithdrawn } from '@am/contracts';
import {
  DependencyBreakers,
  KafkaClient,
  KafkaProjectionConsumer,
  Topics,
  recordFor,
  silentLogger,
  type KafkaProjection,
} from '@am/messaging';
import { createServiceDataSource, migrate } from '@am/persistence';
import { Partitioners } from 'kafkajs';
import { isolatedWorld, testEnv, waitFor } from '@am/testing';
import { migrations } from '../migrations/index.js';
import { accountEventsProjection } from './account-events.subscription.js';

// Real Kafka and PostgreSQL (topics and a database of this file's own): the account activity read model adds sums,
// which is right only if every event is applied exactly once. The group's position moves in the projection's own
// transaction, so an event Kafka offers again (its committed offsets reset) is skipped; and a copy of an event at
// another offset (the outbox relay publishes at least once) is skipped by its message id.
let db: DataSource;
let kafka: KafkaClient;
let breakers: DependencyBreakers;
let consumer: KafkaProjectionConsumer | undefined;
let applied = 0;
const groupId = `analytics-accounts-${randomUUID().slice(0, 8)}`;
const counting: KafkaProjection = {
  ...accountEventsProjection,
  subscription: { ...accountEventsProjection.subscription, groupId, retryDelaysMs: [50] },
  project: async (manager, events) => {
    await accountEventsProjection.project(manager, events);
    applied += events.length;
  },
};

const start = async () => {
  consumer = new KafkaProjectionConsumer(kafka, counting, db, { logger: silentLogger, breakers });
  await consumer.start();
};

/** 20 accounts, each opened, with deposits of 100..109 and one withdrawal of 50: 240 events. */
function history() {
  return Array.from({ length: 20 }, (_, a) => {
    const accountId = `acct-${a}`;
    const origin = { correlationId: randomUUID() };
    return [
      AccountOpened.create({ accountId, name: `n${a}` }, origin),
      ...Array.from({ length: 10 }, (_, d) => MoneyDeposited.create({ accountId, amount: 100 + d }, origin)),
      MoneyWithdrawn.create({ accountId, amount: 50 }, origin),
    ];
  }).flat();
}

async function totals() {
  const [row] = await db.query<{ accounts: number; deposited: string; withdrawn: string; deposits: number }[]>(
    `SELECT count(*)::int AS accounts, sum(deposited)::text AS deposited, sum(withdrawn)::text AS withdrawn,
            sum(deposits)::int AS deposits FROM account_activity`,
  );
  return row;
}

beforeAll(async () => {
  const world = await isolatedWorld('analytics', 'accounts');
  kafka = new KafkaClient({
    brokers: [testEnv().kafkaBrokers],
    clientId: 'account-activity.int',
    credentials: testEnv().kafkaAdmin,
    prefix: world.kafkaPrefix,
  });
  await kafka.connectProducer();
  db = createServiceDataSource({ url: world.databaseUrl, migrations });
  await db.initialize();
  await migrate(db);
  breakers = new DependencyBreakers({
    probes: { postgres: async () => (await db.query<unknown[]>('SELECT 1')).length === 1 },
    endpoints: [{ dependency: 'postgres', port: 5432 }],
    logger: silentLogger,
  });
});

afterAll(async () => {
  breakers?.stop();
  await consumer?.stop();
  await kafka?.close();
  await db?.destroy();
});

describe('analytics account activity (a read model of account-events)', () => {
  it('adds up every account, and adds nothing twice: not when Kafka offers the events again, nor a duplicate copy the relay published', async () => {
    const events = history();
    await kafka.send(events.map((e) => recordFor(Topics.accountEvents, e.data.accountId, e)));
    await start();
    const expected = { accounts: 20, deposited: String(20 * 1045), withdrawn: String(20 * 50), deposits: 200 };
    await waitFor('the 240 events projected', async () => applied >= 240, { timeoutMs: 60_000 });
    expect(await totals()).toEqual(expected);

    // Kafka's committed offsets back to 0: every event is offered again; the table's positions say it was applied.
    await consumer!.stop();
    const admin = kafka.admin();
    await admin.connect();
    await admin
      .resetOffsets({ groupId: kafka.name(groupId), topic: kafka.name(Topics.accountEvents), earliest: true })
      .finally(() => admin.disconnect());
    // And one new event published twice, as the outbox relay may (at least once): two records, two offsets.
    const more = MoneyDeposited.create({ accountId: 'acct-0', amount: 5 }, { correlationId: randomUUID() });
    await kafka.send([recordFor(Topics.accountEvents, 'acct-0', more)]);
    await kafka.send([recordFor(Topics.accountEvents, 'acct-0', more)]);
    applied = 0;
    await start();
    await waitFor('the two new records', async () => applied >= 2, { timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // Given to the projection twice (the offsets are new), added once (its message id was claimed the first time).
    expect(applied).toBe(2);
    expect(await totals()).toEqual({ ...expected, deposited: String(20 * 1045 + 5), deposits: 201 });
  }, 120_000);

  it('holds a partition on a record it cannot read (no dead letter topic, nothing skipped); the other partitions go on', async () => {
    await consumer?.stop();
    // Two accounts whose keys land on different partitions (the producer's own partitioner says where): a poison
    // record, then a deposit, on the first; a deposit on the second.
    const partitionOf = Partitioners.DefaultPartitioner();
    const partitionMetadata = [0, 1, 2].map((partitionId) => ({
      partitionId,
      leader: 1,
      partitionErrorCode: 0,
      replicas: [1],
      isr: [1],
    }));
    const where = (key: string) =>
      partitionOf({ topic: kafka.name(Topics.accountEvents), partitionMetadata, message: { key, value: null } });
    const held = `held-${randomUUID()}`;
    let other = `other-${randomUUID()}`;
    while (where(other) === where(held)) other = `other-${randomUUID()}`;
    const origin = () => ({ correlationId: randomUUID() });
    await kafka.send([{ topic: Topics.accountEvents, key: held, value: Buffer.from('{not json'), headers: {} }]);
    await kafka.send([
      recordFor(Topics.accountEvents, held, MoneyDeposited.create({ accountId: held, amount: 7 }, origin())),
      recordFor(Topics.accountEvents, other, MoneyDeposited.create({ accountId: other, amount: 11 }, origin())),
    ]);
    applied = 0;
    await start();
    await waitFor('the deposit on the other partition', async () => (await depositedOf(other)) === '11', {
      timeoutMs: 60_000,
    });
    // Tried again and again (each try more than the retry delay of 50 ms apart), never skipped, never dead-lettered.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await depositedOf(held)).toBeUndefined();
    // Waiting, not crashed: the member stays in its group (a crash would take it out until it rejoined).
    expect(consumer!.isRunning).toBe(true);
  }, 90_000);
});

async function depositedOf(accountId: string): Promise<string | undefined> {
  const [row] = await db.query<{ deposited: string }[]>(
    'SELECT deposited::text AS deposited FROM account_activity WHERE account_id = $1',
    [accountId],
  );
  return row?.deposited;
}
