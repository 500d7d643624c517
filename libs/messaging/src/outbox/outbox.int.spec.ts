import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MessageCatalog, PlaceOrder, UserRegistered } from '@am/contracts';
import pg from 'pg';
import {
  addToOutbox,
  claimUnsent,
  createServiceDataSource,
  databaseRoundTrips,
  messagingMigrations,
  migrate,
  preparedNameFor,
} from '@am/persistence';
import { testEnv, waitFor } from '@am/testing';
import { AmqpClient } from '../amqp/amqp-client.js';
import { InvalidMessageError } from '../errors.js';
import { duplicateCounter, handleMessage } from '../handle-message.js';
import { toQueue } from '../message-context.js';
import { Queues } from '../topology.js';
import { OutboxRelay } from './outbox-relay.js';

// Real PostgreSQL (this run's database of the audit service, messaging tables only) and real RabbitMQ.
const env = testEnv();
const databaseUrl = env.databaseUrl('audit');
const queue = Queues.auditLog;
let db: DataSource;
let amqp: AmqpClient;

const registered = () =>
  UserRegistered.create(
    { userId: randomUUID(), email: 'ann@example.com', firstName: 'Ann', lastName: '', locale: 'en' },
    { correlationId: randomUUID() },
  );

beforeAll(async () => {
  db = createServiceDataSource({ url: databaseUrl, migrations: messagingMigrations });
  await db.initialize();
  await migrate(db);
  await db.query('CREATE TABLE IF NOT EXISTS effects (message_id uuid, note text)');
  amqp = new AmqpClient({ url: env.adminAmqpUrl, connectionName: 'outbox.int.spec' });
  await amqp.connect();
});

afterAll(async () => {
  await db.query('DROP TABLE IF EXISTS effects');
  await db.destroy();
  await amqp.close();
});

beforeEach(async () => {
  await db.query('TRUNCATE outbox, processed_messages, effects');
  const channel = await amqp.createChannel();
  await channel.purgeQueue(queue);
  await channel.close();
});

describe('round trips (db_round_trips_total)', () => {
  it('counts every statement a service data source sends, transaction control included', async () => {
    const before = databaseRoundTrips();
    await db.query('SELECT 1');
    expect(databaseRoundTrips() - before).toBe(1);
    await db.transaction(async (manager) => {
      await manager.query('SELECT 1');
      await manager.query('SELECT 2');
    });
    // START TRANSACTION, the two statements, COMMIT.
    expect(databaseRoundTrips() - before).toBe(5);
  });
});

describe('prepared statements', () => {
  it('prepares a statement with parameters once per session, under its name, and runs a plain one as it is', async () => {
    const text = 'SELECT $1::int + 1 AS n';
    const results = await db.transaction(async (manager) => {
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(...(await manager.query<{ n: number }[]>(text, [i])));
      const prepared = await manager.query<{ name: string }[]>(
        'SELECT name FROM pg_prepared_statements WHERE statement = $1',
        [text],
      );
      const plain = await manager.query<{ n: string }[]>(
        "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE 'SELECT count(*) AS n FROM pg_prepared%'",
      );
      return { answers, prepared, plain };
    });
    expect(results.answers.map((a) => a.n)).toEqual([1, 2, 3]);
    expect(results.prepared).toEqual([{ name: preparedNameFor(text) }]);
    expect(Number(results.plain[0]!.n)).toBe(0);
  });
});

describe('inbox (idempotent consumer)', () => {
  const catalog = new MessageCatalog([UserRegistered]);
  const options = (handler: (note: string) => Promise<void> = async () => undefined) => ({
    dataSource: db,
    consumer: 'inbox-test',
    catalog,
    findHandler: (type: string) =>
      type === UserRegistered.type
        ? async (message: { messageId: string }, ctx: { manager: DataSource['manager'] }) => {
            await ctx.manager.query('INSERT INTO effects (message_id, note) VALUES ($1, $2)', [
              message.messageId,
              'done',
            ]);
            await handler('done');
          }
        : undefined,
  });

  it('gives a message delivered three times exactly one effect', async () => {
    const body = Buffer.from(JSON.stringify(registered()));
    const results = [
      await handleMessage(options(), body),
      await handleMessage(options(), body),
      await handleMessage(options(), body),
    ];
    expect(results).toEqual([true, false, false]);
    expect(await db.query('SELECT count(*)::int AS n FROM effects')).toEqual([{ n: 1 }]);
  });

  it('notes each duplicate at debug level with its message id', async () => {
    const message = registered();
    const body = Buffer.from(JSON.stringify(message));
    const lines: { obj: object; msg?: string }[] = [];
    const logger = {
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
      debug: (obj: object, msg?: string) => lines.push({ obj, msg }),
    };
    await handleMessage({ ...options(), logger }, body);
    expect(lines).toEqual([]);
    await handleMessage({ ...options(), logger }, body);
    expect(lines).toEqual([
      {
        obj: { consumer: 'inbox-test', messageId: message.messageId, messageType: UserRegistered.type },
        msg: 'duplicate delivery: already handled, skipped (inbox)',
      },
    ]);
  });

  it('counts each duplicate it suppresses under its source (messages_duplicates_total)', async () => {
    const body = Buffer.from(JSON.stringify(registered()));
    const counted: string[] = [];
    const metrics = {
      consumed: () => undefined,
      failed: () => undefined,
      retried: () => undefined,
      deadLettered: () => undefined,
      published: () => undefined,
      duplicate: (source: string) => counted.push(source),
    };
    const counting = { ...options(), ...duplicateCounter(metrics, 'the-queue') };
    expect(await handleMessage(counting, body)).toBe(true);
    expect(counted).toEqual([]);
    await handleMessage(counting, body);
    await handleMessage(counting, body);
    expect(counted).toEqual(['the-queue', 'the-queue']);
  });

  it('also when the duplicates arrive at the same moment', async () => {
    const body = Buffer.from(JSON.stringify(registered()));
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => handleMessage(options(), body)));
    expect(await db.query('SELECT count(*)::int AS n FROM effects')).toEqual([{ n: 1 }]);
    expect(results.filter((r) => r.status === 'fulfilled' && r.value === true)).toHaveLength(1);
  });

  it('rolls the inbox row back with a failed effect, so the retry runs the effect', async () => {
    const body = Buffer.from(JSON.stringify(registered()));
    await expect(
      handleMessage(
        options(async () => Promise.reject(new Error('boom'))),
        body,
      ),
    ).rejects.toThrow('boom');
    expect(await db.query('SELECT count(*)::int AS n FROM processed_messages')).toEqual([{ n: 0 }]);
    expect(await handleMessage(options(), body)).toBe(true);
    expect(await db.query('SELECT count(*)::int AS n FROM effects')).toEqual([{ n: 1 }]);
  });

  it('refuses an invalid message with a reason naming the field, and changes nothing', async () => {
    const bad = {
      ...registered(),
      data: { userId: 'u1', email: 'not-an-email', firstName: 'Ann', lastName: '', locale: 'en' },
    };
    const error = await handleMessage(options(), Buffer.from(JSON.stringify(bad))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidMessageError);
    expect((error as Error).message).toMatch(/^invalid user\.registered: data\.email: /);
    expect(await db.query('SELECT count(*)::int AS n FROM processed_messages')).toEqual([{ n: 0 }]);
  });
});

describe('outbox relay', () => {
  const outboxMessage = (e: ReturnType<typeof PlaceOrder.create>) => ({
    destination: toQueue(queue),
    messageId: e.messageId,
    type: e.type,
    payload: e,
  });

  function placeOrderTasks(count: number) {
    return Array.from({ length: count }, () =>
      PlaceOrder.create(
        {
          orderId: randomUUID(),
          userId: 'u',
          items: [{ sku: 'S', quantity: 1, unitPrice: 1 }],
          total: 1,
          placedAt: new Date().toISOString(),
        },
        { correlationId: randomUUID() },
      ),
    );
  }

  async function enqueue(count: number) {
    const messages = placeOrderTasks(count);
    await db.transaction((m) => addToOutbox(m, messages.map(outboxMessage)));
    return messages;
  }

  async function queuedIds(): Promise<string[]> {
    const channel = await amqp.createChannel();
    const ids: string[] = [];
    for (;;) {
      const m = await channel.get(queue, { noAck: true });
      if (!m) break;
      ids.push(m.properties.messageId as string);
    }
    await channel.close();
    return ids;
  }

  it('publishes rows with confirms and marks them sent, woken by the commit in this process, not by the poll', async () => {
    const relay = new OutboxRelay({ dataSource: db, databaseUrl, amqp, pollIntervalMs: 60_000 });
    await relay.start();
    const messages = await enqueue(5);
    await waitFor(
      'the rows to be marked sent',
      async () => (await db.query('SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL'))[0].n === 0,
      {
        timeoutMs: 5_000,
      },
    );
    await relay.stop();
    expect((await queuedIds()).sort()).toEqual(messages.map((m) => m.messageId).sort());
  });

  it('never sends a row that a rolled-back savepoint took out of the committed transaction', async () => {
    const relay = new OutboxRelay({ dataSource: db, databaseUrl, amqp, pollIntervalMs: 60_000 });
    await relay.start();
    const [kept, undone] = placeOrderTasks(2);
    await db.transaction(async (manager) => {
      await addToOutbox(manager, [outboxMessage(kept!)]);
      await manager.query('SAVEPOINT attempt');
      await addToOutbox(manager, [outboxMessage(undone!)]);
      await manager.query('ROLLBACK TO SAVEPOINT attempt');
    });
    await waitFor(
      'the kept row to be sent',
      async () => (await db.query('SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL'))[0].n === 0,
      { timeoutMs: 5_000 },
    );
    await relay.stop();
    expect(await queuedIds()).toEqual([kept!.messageId]);
  });

  it('leaves committed rows past its in-memory bound to the poll, which finds them in the table', async () => {
    const relay = new OutboxRelay({
      dataSource: db,
      databaseUrl,
      amqp,
      pollIntervalMs: 60_000,
      // The relay's own poll never takes these young rows; the test polls by hand below.
      freshGraceMs: 60_000,
      freshRowsBound: 2,
    });
    await relay.start();
    const messages = await enqueue(5);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await queuedIds()).toEqual([]);
    expect(await relay.relayBatch(100, 0)).toBe(5);
    await relay.stop();
    expect((await queuedIds()).sort()).toEqual(messages.map((m) => m.messageId).sort());
  });

  it('puts nothing in the commit path: no trigger on the outbox table', async () => {
    const [row] = await db.query(
      "SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'outbox'::regclass AND NOT tgisinternal",
    );
    expect(row.n).toBe(0);
  });

  it("leaves rows claimed by a live relay's session alone and takes them over the moment that session ends", async () => {
    const messages = await enqueue(10);
    // Another relay's session claims every row, then "crashes" (its connection ends) without sending.
    const other = new pg.Client({ connectionString: databaseUrl });
    await other.connect();
    const claimed = await claimUnsent(
      async <T>(sql: string, params?: unknown[]) => (await other.query(sql, params)).rows as T[],
      100,
    );
    expect(claimed).toHaveLength(10);

    const relay = new OutboxRelay({ dataSource: db, databaseUrl, amqp, pollIntervalMs: 50, freshGraceMs: 0 });
    await relay.start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await queuedIds()).toEqual([]);

    await other.end();
    const started = performance.now();
    await waitFor(
      'the rows to be sent by the surviving relay',
      async () => (await db.query('SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL'))[0].n === 0,
      { timeoutMs: 5_000 },
    );
    // Within a few polls, not after a lease.
    expect(performance.now() - started).toBeLessThan(3_000);
    await relay.stop();
    expect((await queuedIds()).sort()).toEqual(messages.map((m) => m.messageId).sort());
  });

  it('shares the table between three relays without sending any row twice or skipping one', async () => {
    const messages = await enqueue(600);
    const relays = [1, 2, 3].map(
      () => new OutboxRelay({ dataSource: db, databaseUrl, amqp, batchSize: 25, pollIntervalMs: 50, freshGraceMs: 0 }),
    );
    await Promise.all(relays.map((r) => r.start()));
    await waitFor(
      'all rows sent',
      async () => (await db.query('SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL'))[0].n === 0,
      {
        timeoutMs: 20_000,
      },
    );
    await Promise.all(relays.map((r) => r.stop()));
    const ids = await waitFor('600 messages in the queue', async () => {
      const channel = await amqp.createChannel();
      const { messageCount } = await channel.checkQueue(queue);
      await channel.close();
      return messageCount === 600 ? queuedIds() : undefined;
    });
    expect(ids).toHaveLength(600);
    expect(new Set(ids).size).toBe(600);
    expect(new Set(ids)).toEqual(new Set(messages.map((m) => m.messageId)));
  });
});
