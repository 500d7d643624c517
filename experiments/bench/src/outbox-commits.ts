/**
 * The outbox's commit path, measured with PostgreSQL's own pgbench: commits/s of 16 concurrent writers for
 * - one row: a business row, nothing else (for scale);
 * - plain: a business row and the same message row in a table with a primary key only, in one transaction
 *   (the same writes without the outbox's machinery: the ceiling);
 * - outbox: a business row and an outbox row in one transaction, on the project's outbox table (its real
 *   migrations: no trigger; the relay is woken inside the process after the commit);
 * - outbox + pg_notify: the same on a copy of the table with the first version's trigger, which notified the
 *   relay from the commit path.
 * Rounds alternate the variants (plain, outbox, notify, plain, ...) so that a busy moment of the machine falls on
 * all of them; medians are reported, with the machine's CPU time per commit (all processes: pgbench included).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createServiceDataSource, messagingMigrations, migrate, outboxNotifyTrigger } from '@am/persistence';
import type { TestEnv } from '@am/testing';
import { machineCpu, median } from './stats.js';

export type OutboxVariant = 'one row' | 'plain' | 'outbox' | 'outbox + pg_notify';

export interface OutboxRound {
  variant: OutboxVariant;
  round: number;
  tps: number;
  latencyMs: number;
  /** Machine CPU time (user + system, every process) per commit, in microseconds. */
  cpuMicrosPerCommit: number;
}

export interface OutboxCommitResult {
  clients: number;
  seconds: number;
  rounds: OutboxRound[];
  median: Record<OutboxVariant, { tps: number; latencyMs: number; cpuMicrosPerCommit: number }>;
  settings: Record<string, string>;
}

const business = `INSERT INTO bench_orders (order_id, total) VALUES (gen_random_uuid(), 1000);`;
const outboxRow = (table: string) =>
  `INSERT INTO ${table} (message_id, broker, destination, routing_key, message_type, payload)
     VALUES (gen_random_uuid(), 'amqp', '', 'inventory-reservations', 'inventory.reserve',
             '{"orderId":"00000000-0000-0000-0000-000000000000","items":[{"sku":"SKU-1","quantity":1}]}');`;

const scripts: Record<OutboxVariant, string> = {
  'one row': `BEGIN;\n${business}\nEND;\n`,
  plain: `BEGIN;\n${business}\n${outboxRow('bare_messages')}\nEND;\n`,
  outbox: `BEGIN;\n${business}\n${outboxRow('outbox')}\nEND;\n`,
  'outbox + pg_notify': `BEGIN;\n${business}\n${outboxRow('outbox_notify')}\nEND;\n`,
};

function pgbench(url: string, scriptFile: string, clients: number, seconds: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'pgbench',
      ['-n', '-c', String(clients), '-j', '2', '-T', String(seconds), '-f', scriptFile, url],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`pgbench exited ${code}: ${out}`))));
  });
}

export async function measureOutboxCommits(
  env: TestEnv,
  options: { clients: number; seconds: number; rounds: number },
  log: (message: string) => void,
): Promise<OutboxCommitResult> {
  const database = `${env.database('orders')}_outbox_bench`;
  const admin = new pg.Client({ connectionString: env.postgresAdminUrl });
  await admin.connect();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'outbox-bench-'));
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${database}"`);
    await admin.query(`CREATE DATABASE "${database}"`);
    const url = env.postgresAdminUrl.replace(/\/[^/]*$/, `/${database}`);

    // The project's outbox table, made by its own migrations; the first version's trigger on a copy of it.
    const dataSource = createServiceDataSource({ url, migrations: messagingMigrations });
    await dataSource.initialize();
    await migrate(dataSource);
    await dataSource.query(
      'CREATE TABLE bench_orders (id bigserial PRIMARY KEY, order_id uuid NOT NULL, total int NOT NULL, created_at timestamptz NOT NULL DEFAULT now())',
    );
    await dataSource.query('CREATE TABLE outbox_notify (LIKE outbox INCLUDING ALL)');
    // The same columns and defaults, and only a primary key.
    await dataSource.query('CREATE TABLE bare_messages (LIKE outbox INCLUDING DEFAULTS, PRIMARY KEY (id))');
    for (const statement of outboxNotifyTrigger('outbox_notify')) await dataSource.query(statement);
    const triggers = await dataSource.query<{ n: number }[]>(
      "SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'outbox'::regclass AND NOT tgisinternal",
    );
    if (triggers[0]!.n !== 0) throw new Error('the migrated outbox table has a trigger');
    const settings: Record<string, string> = {};
    for (const name of ['synchronous_commit', 'fsync', 'wal_sync_method', 'commit_delay', 'max_connections']) {
      settings[name] = (await dataSource.query<{ v: string }[]>(`SELECT current_setting('${name}') AS v`))[0]!.v;
    }
    await dataSource.destroy();

    const files = Object.fromEntries(
      Object.entries(scripts).map(([variant, text]) => {
        const file = path.join(dir, `${variant.replace(/[^a-z]+/g, '-')}.sql`);
        writeFileSync(file, text);
        return [variant, file];
      }),
    ) as Record<OutboxVariant, string>;

    const rounds: OutboxRound[] = [];
    const variants = Object.keys(scripts) as OutboxVariant[];
    for (let round = 1; round <= options.rounds; round++) {
      for (const variant of variants) {
        const before = machineCpu().busy;
        const out = await pgbench(url, files[variant], options.clients, options.seconds);
        const busy = machineCpu().busy - before;
        const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(out)?.[1]);
        const latencyMs = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]);
        const transactions = Number(/number of transactions actually processed: (\d+)/.exec(out)?.[1]);
        if (!Number.isFinite(tps) || !transactions) throw new Error(`pgbench printed no result:\n${out}`);
        const jiffy = 1e6 / 100;
        const round_: OutboxRound = {
          variant,
          round,
          tps,
          latencyMs,
          cpuMicrosPerCommit: (busy * jiffy) / transactions,
        };
        rounds.push(round_);
        log(
          `outbox round ${round}/${options.rounds} ${variant}: ${tps.toFixed(0)} commits/s, ${latencyMs.toFixed(2)} ms, ${round_.cpuMicrosPerCommit.toFixed(0)} µs machine CPU per commit`,
        );
      }
    }
    const med = Object.fromEntries(
      variants.map((v) => {
        const mine = rounds.filter((r) => r.variant === v);
        return [
          v,
          {
            tps: median(mine.map((r) => r.tps)),
            latencyMs: median(mine.map((r) => r.latencyMs)),
            cpuMicrosPerCommit: median(mine.map((r) => r.cpuMicrosPerCommit)),
          },
        ];
      }),
    ) as OutboxCommitResult['median'];
    return { clients: options.clients, seconds: options.seconds, rounds, median: med, settings };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}
