import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimMessage, createServiceDataSource, migrate } from '@am/persistence';
import { Topics } from '@am/messaging';
import { testEnv } from '@am/testing';
import { migrations } from '../migrations/index.js';
import type { AccountCommand } from './account.events.js';
import { evolve, initialAccountState } from './account.evolve.js';
import { allBalances, findBalance, rebuildBalances } from './account-balance.projection.js';
import {
  ConcurrencyRetriesExhaustedError,
  SNAPSHOT_EVERY,
  runAccountCommand,
  type RunCommandOptions,
} from './account-command.runner.js';
import { SNAPSHOT_SCHEMA, loadStream, readStream } from './account-event.store.js';
import { foldAccount } from './account.evolve.js';

// Real PostgreSQL: this run's payments database with the service's own migrations. Every test uses fresh
// account ids, because the event store cannot be truncated (it is append-only, and that is tested here too).
let db: DataSource;

beforeAll(async () => {
  db = createServiceDataSource({ url: testEnv().databaseUrl('payments'), migrations, poolSize: 25 });
  await db.initialize();
  await migrate(db);
});

afterAll(async () => {
  await db?.destroy();
});

const origin = () => ({ correlationId: randomUUID() });
const run = (command: AccountCommand, options: Partial<RunCommandOptions> = {}) =>
  db.transaction((manager) => runAccountCommand(manager, command, { origin: origin(), ...options }));
const open = (accountId: string, name = 'Alice') => run({ type: 'OpenAccount', data: { accountId, name } });
const deposit = (accountId: string, amount: number) => run({ type: 'Deposit', data: { accountId, amount } });
const withdraw = (accountId: string, amount: number) => run({ type: 'Withdraw', data: { accountId, amount } });

describe('the account event store', () => {
  it('keeps the article account as four events, a balance of 750 and four messages for account-events', async () => {
    const id = randomUUID();
    await open(id);
    await deposit(id, 1000);
    await withdraw(id, 200);
    const last = await withdraw(id, 50);
    expect(last).toMatchObject({ ok: true, version: 4, state: { balance: 750 } });

    const stream = await readStream(db.manager, id);
    expect(stream.map((s) => [s.version, s.event.type])).toEqual([
      [1, 'AccountOpened'],
      [2, 'MoneyDeposited'],
      [3, 'MoneyWithdrawn'],
      [4, 'MoneyWithdrawn'],
    ]);
    expect(await findBalance(db.manager, id)).toEqual({ id, name: 'Alice', balance: 750, isOpen: true, version: 4 });

    const outbox: { destination: string; routing_key: string; message_type: string; message_id: string }[] =
      await db.query(
        `SELECT destination, routing_key, message_type, message_id FROM outbox
          WHERE routing_key = $1 ORDER BY id`,
        [id],
      );
    expect(outbox.map((o) => o.message_type)).toEqual([
      'account.AccountOpened',
      'account.MoneyDeposited',
      'account.MoneyWithdrawn',
      'account.MoneyWithdrawn',
    ]);
    expect(new Set(outbox.map((o) => o.destination))).toEqual(new Set([Topics.accountEvents]));
    // The stored event and its message share one id: a republished event keeps its idempotency key.
    expect(outbox.map((o) => o.message_id)).toEqual(stream.map((s) => s.messageId));
  });

  it('refuses to update, delete or truncate events (append-only)', async () => {
    const id = randomUUID();
    await open(id);
    await expect(db.query(`UPDATE account_events SET data = '{}' WHERE stream_id = $1`, [id])).rejects.toThrow(
      /append-only: UPDATE refused/,
    );
    await expect(db.query('DELETE FROM account_events WHERE stream_id = $1', [id])).rejects.toThrow(
      /append-only: DELETE refused/,
    );
    await expect(db.query('TRUNCATE account_events')).rejects.toThrow(/append-only: TRUNCATE refused/);
    expect(await readStream(db.manager, id)).toHaveLength(1);
  });

  it('appends nothing for a refused command', async () => {
    const id = randomUUID();
    expect(await withdraw(id, 1)).toMatchObject({ ok: false, error: { code: 'no_account' } });
    await open(id);
    expect(await withdraw(id, 1)).toMatchObject({ ok: false, error: { code: 'insufficient_funds' }, version: 1 });
    expect(await readStream(db.manager, id)).toHaveLength(1);
  });
});

describe('snapshots', () => {
  const snapshotOf = async (id: string) =>
    (
      await db.query<{ version: number; schema: number }[]>(
        'SELECT version, schema FROM account_snapshots WHERE stream_id = $1',
        [id],
      )
    )[0];

  it('reads the last snapshot and fewer than SNAPSHOT_EVERY events after it, and folds the same state as the whole stream', async () => {
    const id = randomUUID();
    await open(id);
    const deposits = 2 * SNAPSHOT_EVERY + 20;
    for (let i = 0; i < deposits; i++) await deposit(id, 10);
    const whole = await readStream(db.manager, id);
    expect(whole).toHaveLength(deposits + 1);

    const loaded = await loadStream(db.manager, id);
    expect(loaded.snapshot?.version).toBeGreaterThanOrEqual(2 * SNAPSHOT_EVERY);
    expect(loaded.events.length).toBeLessThan(SNAPSHOT_EVERY);
    expect(loaded.events[0]?.version).toBe(loaded.snapshot!.version + 1);
    const fromSnapshot = foldAccount(
      loaded.events.map((e) => e.event),
      loaded.snapshot!.state,
    );
    expect(fromSnapshot).toEqual(foldAccount(whole.map((e) => e.event)));
    expect(fromSnapshot).toMatchObject({ balance: deposits * 10 });
    // A command decides on that state: the next withdrawal sees every deposit.
    expect(await withdraw(id, deposits * 10)).toMatchObject({ ok: true, version: deposits + 2, state: { balance: 0 } });
    expect(await withdraw(id, 1)).toMatchObject({ ok: false, error: { code: 'insufficient_funds' } });
  });

  it('is only a cache: with the snapshot deleted, or of another layout, the stream is folded from its first event', async () => {
    const id = randomUUID();
    await open(id);
    for (let i = 0; i < SNAPSHOT_EVERY; i++) await deposit(id, 1);
    expect((await snapshotOf(id))?.schema).toBe(SNAPSHOT_SCHEMA);

    await db.query(`UPDATE account_snapshots SET schema = $2, state = '{"layout":"old"}' WHERE stream_id = $1`, [
      id,
      SNAPSHOT_SCHEMA + 1,
    ]);
    const ignored = await loadStream(db.manager, id);
    expect(ignored.snapshot).toBeUndefined();
    expect(ignored.events).toHaveLength(SNAPSHOT_EVERY + 1);
    // The next command decides on the whole history and replaces the snapshot with one of this layout.
    expect(await withdraw(id, SNAPSHOT_EVERY)).toMatchObject({ ok: true, state: { balance: 0 } });
    expect(await snapshotOf(id)).toEqual({ version: SNAPSHOT_EVERY + 2, schema: SNAPSHOT_SCHEMA });

    await db.query('DELETE FROM account_snapshots WHERE stream_id = $1', [id]);
    expect(await withdraw(id, 1)).toMatchObject({ ok: false, error: { code: 'insufficient_funds' } });
    expect(await deposit(id, 5)).toMatchObject({ ok: true, state: { balance: 5 } });
  });
});

describe('optimistic concurrency', () => {
  it('lets exactly 10 of 20 concurrent withdrawals of 100 through a balance of 1000, never below zero', async () => {
    const id = randomUUID();
    await open(id);
    await deposit(id, 1000);
    const messageIds = Array.from({ length: 20 }, () => randomUUID());

    // Each withdrawal runs as a message handler does: in a transaction that has already claimed its inbox row,
    // which must survive the conflicts that the savepoint rolls back.
    const outcomes = await Promise.all(
      messageIds.map((messageId) =>
        db.transaction(async (manager) => {
          await claimMessage(manager, 'concurrency-test', messageId);
          return runAccountCommand(
            manager,
            { type: 'Withdraw', data: { accountId: id, amount: 100 } },
            { origin: origin() },
          );
        }),
      ),
    );

    expect(outcomes.filter((o) => o.ok)).toHaveLength(10);
    expect(outcomes.filter((o) => !o.ok).map((o) => !o.ok && o.error.code)).toEqual(
      Array(10).fill('insufficient_funds'),
    );
    const stream = await readStream(db.manager, id);
    expect(stream.map((s) => s.version)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    let state = initialAccountState;
    for (const { event } of stream) {
      state = evolve(state, event);
      expect(state.exists && state.balance).toBeGreaterThanOrEqual(0);
    }
    expect(state).toMatchObject({ balance: 0 });
    expect(await findBalance(db.manager, id)).toMatchObject({ balance: 0, version: 12 });
    const [claimed] = await db.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM processed_messages WHERE message_id = ANY($1::uuid[])',
      [messageIds],
    );
    expect(claimed?.n).toBe(20);
  });

  it('gives up after the last attempt when the stream keeps moving', async () => {
    const id = randomUUID();
    await open(id);
    const runner = db.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      // A holds version 2 uncommitted; B reads version 1, its insert waits for A, and A's commit makes it conflict.
      await runAccountCommand(
        runner.manager,
        { type: 'Deposit', data: { accountId: id, amount: 5 } },
        { origin: origin() },
      );
      const loser = deposit(id, 7).catch((e: unknown) => e);
      const retried = run({ type: 'Deposit', data: { accountId: id, amount: 7 } }, { maxAttempts: 1 }).catch(
        (e: unknown) => e,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await runner.commitTransaction();
      expect(await retried).toBeInstanceOf(ConcurrencyRetriesExhaustedError);
      expect(await loser).toMatchObject({ ok: true });
    } finally {
      await runner.release();
    }
    expect(await findBalance(db.manager, id)).toMatchObject({ balance: 12, version: 3 });
  });
});

describe('rebuilding the read model', () => {
  it('replays the events into exactly the balances the live projection wrote', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    await open(a, 'Ann');
    await open(b, 'Bob');
    await open(c, 'Cy');
    for (let i = 0; i < 5; i++) {
      await deposit(a, 1000 + i);
      await withdraw(a, 300);
      await deposit(b, 50);
    }
    await withdraw(b, 10_000); // refused: nothing to replay
    await run({ type: 'CloseAccount', data: { accountId: c, reason: 'moved away' } });
    await Promise.all(Array.from({ length: 6 }, () => withdraw(a, 250)));

    const live = await allBalances(db.manager);
    expect(live.find((r) => r.id === c)).toMatchObject({ isOpen: false, version: 2 });
    await db.query('UPDATE account_balances SET balance = 0, version = 1'); // spoil the read model

    const progress: number[] = [];
    // A small page, so that page boundaries fall inside streams.
    const result = await rebuildBalances(db, { pageSize: 3, onProgress: (p) => progress.push(p.events) });

    expect(await allBalances(db.manager)).toEqual(live);
    const [count] = await db.query<{ events: number; streams: number }[]>(
      'SELECT count(*)::int AS events, count(DISTINCT stream_id)::int AS streams FROM account_events',
    );
    expect(result).toEqual({ events: count?.events, accounts: count?.streams });
    expect(progress.at(-1)).toBe(count?.events);
    expect(progress.length).toBeGreaterThan(1);
  });
});
