import { randomUUID } from 'node:crypto';
import { http } from './http.js';
import { waitFor } from './wait-for.js';
import { query, type Ledger } from './invariants.js';
import { testEnv, type TestEnv } from './test-env.js';

/** URLs of the services a scenario talks to. */
export interface Urls {
  orders: string;
  inventory: string;
  payments: string;
}

/** Runs `task` for 0..count-1 with at most `concurrency` in flight. */
export async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/**
 * Retries an HTTP call while the service is down, answers 503 (a process being restarted by a fault test) or 429
 * (its rate limit: the container tier runs the stack with compose's default limit).
 */
export async function persistently<T>(call: () => Promise<{ status: number; body: T }>, timeoutMs = 60_000) {
  return waitFor(
    'a service to answer',
    async () => {
      const answer = await call().catch(() => undefined);
      return answer && answer.status !== 503 && answer.status !== 429 && answer.status < 500 ? answer : undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/** Registers users with funded accounts and SKUs with stock, and records both in a ledger for the checker. */
export async function seed(urls: Urls, users: number, deposit: number, skus: number, stock: number) {
  const ledger: Ledger = { deposits: new Map(), stock: new Map() };
  const userIds: string[] = [];
  for (let i = 0; i < users; i++) {
    const email = `${randomUUID()}@example.com`;
    const user = await persistently(() =>
      http<{ userId: string }>('POST', `${urls.orders}/users`, { email, name: `User ${i}` }),
    );
    const userId = user.body.userId;
    // Deposits are not idempotent: deposit only while the balance shows none, so a retry after a lost answer
    // (a service restarted by a fault test) never deposits twice.
    await waitFor(
      'the account to open and hold the deposit',
      async () => {
        const account = await http<{ balance: number }>('GET', `${urls.payments}/accounts/${userId}`).catch(
          () => undefined,
        );
        if (account?.status !== 200) return false;
        if (account.body.balance === deposit) return true;
        if (account.body.balance === 0)
          await http('POST', `${urls.payments}/accounts/${userId}/deposits`, { amount: deposit }).catch(
            () => undefined,
          );
        return false;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    ledger.deposits.set(userId, deposit);
    userIds.push(userId);
  }
  const skuIds: string[] = [];
  for (let i = 0; i < skus; i++) {
    const sku = `SKU-${randomUUID().slice(0, 8)}`;
    await persistently(() => http('PUT', `${urls.inventory}/stock/${sku}`, { quantity: stock }));
    ledger.stock.set(sku, stock);
    skuIds.push(sku);
  }
  return { ledger, userIds, skuIds };
}

/**
 * Waits until this test run holds `expected` orders and none of them is PENDING any more. Counting them matters:
 * orders placed through the queue exist only once a worker has stored them, so "nothing PENDING" alone also holds
 * before the first one is stored (while the orders worker is restarting, say).
 */
export async function settle(expected: number, timeoutMs: number, env: TestEnv = testEnv()): Promise<void> {
  let seen = 'no orders yet';
  await waitFor(
    `${expected} orders to reach a terminal state`,
    async () => {
      const rows = await query<{ status: string; n: number }>(
        env,
        'orders',
        `SELECT status, count(*)::int AS n FROM orders GROUP BY status`,
      );
      const byStatus = Object.fromEntries(rows.map((r) => [r.status, r.n]));
      seen = JSON.stringify(byStatus);
      const total = rows.reduce((sum, r) => sum + r.n, 0);
      return total >= expected && !byStatus.PENDING;
    },
    { timeoutMs, intervalMs: 500 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; orders by status: ${seen}`);
  });
}
