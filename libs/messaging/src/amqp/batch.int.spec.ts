import { randomUUID } from 'node:crypto';
import type { Channel, GetMessage } from 'amqplib';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MessageCatalog, UserRegistered, causedBy } from '@am/contracts';
import { createServiceDataSource, messagingMigrations, migrate } from '@am/persistence';
import { testEnv, waitFor } from '@am/testing';
import { InvalidMessageError } from '../errors.js';
import { silentLogger } from '../logger.js';
import type { MessageContext } from '../message-context.js';
import { toQueue } from '../message-context.js';
import { AmqpTransport } from '../nest/amqp.transport.js';
import { Queues, deadLetterQueue, retryQueue } from '../topology.js';
import { AmqpClient } from './amqp-client.js';
import { RetryHeaders } from './amqp-consumer.js';
import { defineSubscription } from './amqp-subscription.js';

// Batched consumers on the real brokers: RabbitMQ (this run's vhost) and this run's audit database (messaging
// tables and a table of effects). The transport is the one the services run, with a handler registered by hand.
const env = testEnv();
const queue = Queues.auditLog;
const subscription = defineSubscription({ queue, prefetch: 50, batch: { maxSize: 50 }, retryDelaysMs: [300, 300] });
let db: DataSource;
let amqp: AmqpClient;
let inspect: Channel;
let transport: AmqpTransport | undefined;
/** How many times the handler ran per message (rolled-back runs included). */
const calls = new Map<string, number>();

const registered = (firstName: string, origin: { correlationId: string } = { correlationId: randomUUID() }) =>
  UserRegistered.create(
    { userId: randomUUID(), email: 'ann@example.com', firstName, lastName: '', locale: 'en' },
    origin,
  );

/** The effect of a message: a row with the transaction it committed in, and a message in the outbox. */
async function handler(message: UserRegistered, ctx: MessageContext): Promise<void> {
  const runs = (calls.get(message.messageId) ?? 0) + 1;
  calls.set(message.messageId, runs);
  await ctx.manager.query('INSERT INTO batch_effects (message_id, txid) VALUES ($1, txid_current())', [
    message.messageId,
  ]);
  ctx.send(toQueue('batch-test-nowhere'), registered(`echo of ${message.data.firstName}`, causedBy(message)));
  if (message.data.firstName === 'poison') throw new InvalidMessageError('poison: refused for good');
  // Fails twice (in its batch and on its own, then after its first retry; or on its own twice when its batch was
  // refused before any handler ran), then passes: never dead-lettered with two retries.
  if (message.data.firstName === 'flaky' && runs <= 2) throw new Error('flaky: try again later');
}

async function startConsumer(): Promise<void> {
  transport = new AmqpTransport({
    client: amqp,
    dataSource: db,
    subscriptions: [{ subscription, catalog: new MessageCatalog([UserRegistered]) }],
    logger: silentLogger,
  });
  transport.addHandler(UserRegistered.type, (m: UserRegistered, ctx: MessageContext) => handler(m, ctx), true);
  await new Promise<void>(
    (resolve, reject) =>
      void transport!.listen((error?: unknown) =>
        error ? reject(error instanceof Error ? error : new Error('listen failed')) : resolve(),
      ),
  );
}

async function effects(ids: string[]): Promise<{ message_id: string; txid: string }[]> {
  return db.query('SELECT message_id, txid::text FROM batch_effects WHERE message_id = ANY($1::uuid[])', [ids]);
}

const publish = (messages: (UserRegistered | Buffer)[]) =>
  Promise.all(
    messages.map((m) =>
      Buffer.isBuffer(m)
        ? amqp.publishRaw('', queue, m, { messageId: randomUUID(), type: UserRegistered.type })
        : amqp.publish('', queue, m),
    ),
  );

beforeAll(async () => {
  db = createServiceDataSource({ url: env.databaseUrl('audit'), migrations: messagingMigrations });
  await db.initialize();
  await migrate(db);
  await db.query('CREATE TABLE IF NOT EXISTS batch_effects (message_id uuid, txid bigint)');
  amqp = new AmqpClient({ url: env.adminAmqpUrl, connectionName: 'batch.int.spec' });
  await amqp.connect();
  inspect = await amqp.createChannel();
});

afterAll(async () => {
  await transport?.close();
  await db.query('DROP TABLE IF EXISTS batch_effects');
  await db.destroy();
  await amqp.close();
});

beforeEach(async () => {
  await transport?.close();
  transport = undefined;
  for (const name of [queue, deadLetterQueue(queue), retryQueue(queue, 1), retryQueue(queue, 2)])
    await inspect.purgeQueue(name);
});

describe('batched consumer', () => {
  it('handles deliveries that arrive together in one transaction, each exactly once, and acknowledges them all', async () => {
    const messages = Array.from({ length: 40 }, (_, i) => registered(`ann ${i}`));
    // Published before the consumer starts: the broker then sends up to the prefetch at once.
    await publish([...messages, messages[0]!, messages[1]!]);
    await startConsumer();
    const ids = messages.map((m) => m.messageId);
    const rows = await waitFor('every message handled', async () => {
      const got = await effects(ids);
      return got.length >= ids.length ? got : undefined;
    });
    await transport!.close();
    transport = undefined;

    // Exactly one effect per message (the two repeated deliveries were skipped by the inbox claim)...
    expect(rows.map((r) => r.message_id).sort()).toEqual([...ids].sort());
    // ...committed in fewer transactions than messages: whole batches shared one.
    const perTransaction = new Map<string, number>();
    for (const r of rows) perTransaction.set(r.txid, (perTransaction.get(r.txid) ?? 0) + 1);
    expect(perTransaction.size).toBeLessThan(ids.length);
    expect(Math.max(...perTransaction.values())).toBeGreaterThan(1);
    // One outbox row per handled message.
    const outbox: { n: number }[] = await db.query(
      `SELECT count(*)::int AS n FROM outbox WHERE payload->'causationId' IS NOT NULL
         AND payload->>'causationId' = ANY($1::text[])`,
      [ids],
    );
    expect(outbox[0]!.n).toBe(ids.length);
    // Nothing left in the queue, nothing unacknowledged (the consumer has closed its channel: unacked would be back).
    const { messageCount } = await inspect.checkQueue(queue);
    expect(messageCount).toBe(0);
  });

  it('handles a failed batch one message at a time: only the poison is dead-lettered, only the flaky one retried', async () => {
    const good = Array.from({ length: 20 }, (_, i) => registered(`bob ${i}`));
    const poison = registered('poison');
    const flaky = registered('flaky');
    const garbage = Buffer.from('{"not": "an envelope"');
    await publish([...good.slice(0, 10), poison, garbage, flaky, ...good.slice(10)]);
    await startConsumer();

    const goodIds = good.map((m) => m.messageId);
    await waitFor('the good messages and the flaky one (after its retry) handled', async () => {
      const got = await effects([...goodIds, flaky.messageId]);
      return got.length >= goodIds.length + 1 ? got : undefined;
    });
    const dead = await waitFor('two dead letters', async () => {
      const { messageCount } = await inspect.checkQueue(deadLetterQueue(queue));
      return messageCount >= 2 ? messageCount : undefined;
    });
    await transport!.close();
    transport = undefined;

    // The good ones: one effect each, although their first batch ran and rolled back.
    const rows = await effects([...goodIds, flaky.messageId, poison.messageId]);
    const count = (id: string) => rows.filter((r) => r.message_id === id).length;
    for (const id of goodIds) expect(count(id)).toBe(1);
    expect(count(flaky.messageId)).toBe(1);
    expect(count(poison.messageId)).toBe(0);
    expect(calls.get(flaky.messageId)).toBe(3);
    // The dead letter queue holds exactly the poison and the unparseable body, each with its reason, no retry spent.
    expect(dead).toBe(2);
    const letters: GetMessage[] = [];
    for (let i = 0; i < 2; i++) {
      const letter = await inspect.get(deadLetterQueue(queue), { noAck: true });
      if (letter) letters.push(letter);
    }
    const reasons = letters.map((l) => String(l.properties.headers?.[RetryHeaders.error]));
    expect(reasons.some((r) => r.includes('poison: refused for good'))).toBe(true);
    expect(reasons.some((r) => r.startsWith('InvalidMessageError') && !r.includes('poison'))).toBe(true);
    expect(letters.map((l) => l.properties.headers?.[RetryHeaders.retryCount] as unknown)).toEqual([0, 0]);
    const poisonLetter = letters.find((l) => l.properties.messageId === poison.messageId);
    expect(JSON.parse(poisonLetter!.content.toString())).toEqual(poison);
    expect((await inspect.checkQueue(queue)).messageCount).toBe(0);
  });
});
