import amqp from 'amqplib';
import pg from 'pg';
import { allQueueNames, consumedBy, type ServiceName } from '@am/messaging';
import { deadLettersInQueues, formatDeadLetter } from './dead-letters.js';
import { testEnv, type TestEnv } from './test-env.js';

/** What the run did, so the checker knows what the world must look like now. */
export interface Ledger {
  /** Money deposited per user (cents). */
  deposits: Map<string, number>;
  /** Initial stock per SKU. */
  stock: Map<string, number>;
  /** Queues where dead letters are expected (and so allowed). */
  intendedDeadLetters?: string[];
}

export interface InvariantReport {
  orders: Record<string, number>;
  problems: string[];
}

/** Runs one query on a service's database of this test run (as that service's role). */
export async function query<T>(env: TestEnv, service: ServiceName, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: env.databaseUrl(service) });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * The checker every fault test ends with. It reads the services' databases and the broker directly and lists
 * every broken invariant, for the orders of the ledger's users (`orders` counts them by status):
 * - every order is in exactly one terminal state, and its saga agrees;
 * - no outbox row is left unsent in any service;
 * - every queue is empty, except dead letter queues where dead letters were intended;
 * - each balance equals deposits minus confirmed totals;
 * - each SKU's available stock equals initial minus confirmed quantities, and nothing is left reserved for
 *   orders that did not go through.
 */
export async function checkInvariants(ledger: Ledger, env: TestEnv = testEnv()): Promise<InvariantReport> {
  const problems: string[] = [];
  // The orders of this ledger's users: other test files of the run share the orders database.
  const users = [...ledger.deposits.keys()];
  const statusRows = await query<{ status: string; n: number }>(
    env,
    'orders',
    'SELECT status, count(*)::int AS n FROM orders WHERE user_id = ANY($1::uuid[]) GROUP BY status',
    [users],
  );
  const orders = Object.fromEntries(statusRows.map((r) => [r.status, r.n]));
  if (orders.PENDING) problems.push(`${orders.PENDING} orders still PENDING`);
  const disagree = await query<{ n: number }>(
    env,
    'orders',
    `SELECT count(*)::int AS n FROM orders o JOIN order_sagas s ON s.order_id = o.id
      WHERE s.status <> o.status AND o.user_id = ANY($1::uuid[])`,
    [users],
  );
  if (disagree[0]!.n > 0) problems.push(`${disagree[0]!.n} orders whose saga status differs from the order status`);

  for (const service of ['orders', 'inventory', 'payments'] as const) {
    const [row] = await query<{ n: number }>(
      env,
      service,
      'SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL',
    );
    if (row!.n > 0) problems.push(`${service}: ${row!.n} outbox rows unsent`);
  }

  const connection = await amqp.connect(env.adminAmqpUrl);
  let unexpectedDeadLetters = false;
  try {
    const channel = await connection.createChannel();
    for (const queue of allQueueNames()) {
      const { messageCount } = await channel.checkQueue(queue);
      const allowed = queue.endsWith('-dlq') && (ledger.intendedDeadLetters ?? []).includes(queue);
      if (messageCount > 0 && !allowed && !fillsUpByDesign(queue)) {
        problems.push(`queue ${queue} holds ${messageCount} messages`);
        if (queue.endsWith('-dlq')) unexpectedDeadLetters = true;
      }
    }
  } finally {
    await connection.close();
  }
  // A failure explains itself: each dead letter's type, reason and retry count.
  if (unexpectedDeadLetters) {
    const intended = new Set(ledger.intendedDeadLetters ?? []);
    for (const letter of await deadLettersInQueues(env))
      if (!intended.has(letter.where)) problems.push(`dead letter in ${formatDeadLetter(letter)}`);
  }

  const confirmed = await query<{ user_id: string; total: string; items: { sku: string; quantity: number }[] }>(
    env,
    'orders',
    `SELECT user_id, total, items FROM orders WHERE status = 'CONFIRMED' AND user_id = ANY($1::uuid[])`,
    [users],
  );
  for (const [userId, deposited] of ledger.deposits) {
    const spent = confirmed.filter((o) => o.user_id === userId).reduce((sum, o) => sum + Number(o.total), 0);
    const [account] = await query<{ balance: string }>(
      env,
      'payments',
      'SELECT balance FROM account_balances WHERE account_id = $1',
      [userId],
    );
    const balance = Number(account?.balance ?? NaN);
    if (balance !== deposited - spent)
      problems.push(`user ${userId}: balance ${balance}, expected ${deposited} - ${spent} = ${deposited - spent}`);
  }
  for (const [sku, initial] of ledger.stock) {
    const sold = confirmed
      .flatMap((o) => o.items)
      .filter((i) => i.sku === sku)
      .reduce((sum, i) => sum + i.quantity, 0);
    const [row] = await query<{ available: number; reserved: number }>(
      env,
      'inventory',
      'SELECT available, reserved FROM stock WHERE sku = $1',
      [sku],
    );
    if (row?.available !== initial - sold)
      problems.push(`sku ${sku}: available ${row?.available}, expected ${initial} - ${sold} = ${initial - sold}`);
    if (row?.reserved !== sold) problems.push(`sku ${sku}: reserved ${row?.reserved}, expected the ${sold} confirmed`);
  }
  return { orders, problems };
}

/**
 * The queues of services a fault test may not run (email, analytics, audit) fill up by design: their copies of the
 * user events, and audit's wire-tap of the saga.
 */
function fillsUpByDesign(queue: string): boolean {
  return (['email', 'analytics', 'audit'] as const).some((service) => consumedBy(service).includes(queue));
}

/**
 * Checks the invariants until they hold or `timeoutMs` passes (compensations and outbox rows may still be in
 * flight right after the last order settled), and returns the last report either way.
 */
export async function awaitInvariants(
  ledger: Ledger,
  timeoutMs = 30_000,
  env: TestEnv = testEnv(),
): Promise<InvariantReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const report = await checkInvariants(ledger, env);
    if (report.problems.length === 0 || Date.now() > deadline) return report;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
