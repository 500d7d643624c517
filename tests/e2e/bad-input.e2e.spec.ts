import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES, type ServiceName } from '@am/messaging';
import { http, query, startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';

// Bad input never becomes a lost message: strings PostgreSQL cannot store and numbers beyond what the money
// arithmetic holds are refused at the edge with a 4xx on every route, and change nothing.
const env = testEnv();
let services: Record<string, ServiceProcess>;
const url = (service: ServiceName, path: string) => `${services[service]!.url}${path}`;

beforeAll(async () => {
  services = await startServices([...SERVICES], {
    // A backed-up queue: the orders worker takes at most one task every two seconds.
    orders: { ORDER_PROCESSING_MAX_PER_SECOND: '0.5', ORDER_PROCESSING_PREFETCH: '1' },
  });
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

const NUL = '\u0000';
const LONE_SURROGATE = '\ud800';
const uuid = () => randomUUID();

/** Every route of the HTTP contract, with something unstorable in its path, query or body. */
function attempts(bad: string): [ServiceName, string, string, unknown][] {
  // A lone surrogate has no UTF-8 form: in a URL it can only arrive as an invalid escape (its CESU-8 bytes).
  const inPath = bad === LONE_SURROGATE ? 'x%ED%A0%80' : encodeURIComponent(`x${bad}`);
  const item = { sku: `SKU${bad}`, quantity: 1, unitPrice: 100 };
  return [
    ['orders', 'POST', '/users', { email: `a${bad}@example.com`, name: 'Eve' }],
    ['orders', 'POST', '/users', { email: `${uuid()}@example.com`, name: `Eve${bad}` }],
    ['orders', 'POST', '/orders', { userId: uuid(), items: [item] }],
    ['orders', 'POST', '/orders/sync', { userId: uuid(), items: [item] }],
    ['orders', 'GET', `/orders/${inPath}`, undefined],
    ['inventory', 'PUT', `/stock/${inPath}`, { quantity: 5 }],
    ['inventory', 'GET', `/stock/${inPath}`, undefined],
    ['inventory', 'POST', '/reservations', { orderId: uuid(), items: [item] }],
    ['inventory', 'POST', `/reservations/${inPath}/release`, undefined],
    ['payments', 'POST', '/payments', { orderId: uuid(), userId: `u${bad}`, amount: 100 }],
    ['payments', 'POST', `/payments/${inPath}/refund`, undefined],
    ['payments', 'GET', `/accounts/${inPath}`, undefined],
    ['payments', 'GET', `/accounts/${inPath}/events`, undefined],
    ['payments', 'POST', `/accounts/${inPath}/deposits`, { amount: 100 }],
    ['email', 'GET', `/emails?to=${inPath}`, undefined],
    ['analytics', 'GET', `/analytics/summary?from=${inPath}`, undefined],
    ['audit', 'GET', `/audit?correlationId=${inPath}`, undefined],
    ['audit', 'POST', `/dead-letters/${inPath}/replay`, undefined],
    // A key is checked as well as its value.
    ['inventory', 'PUT', `/stock/SKU-${uuid().slice(0, 8)}`, { [`quantity${bad}`]: 5 }],
  ];
}

async function counts() {
  const [orders] = await query<{ n: number }>(env, 'orders', 'SELECT count(*)::int AS n FROM orders');
  const [users] = await query<{ n: number }>(env, 'orders', 'SELECT count(*)::int AS n FROM users');
  const [stock] = await query<{ n: number }>(env, 'inventory', 'SELECT count(*)::int AS n FROM stock');
  return { orders: orders!.n, users: users!.n, stock: stock!.n };
}

describe('bad input at the edge', () => {
  it.each([
    ['a NUL byte', NUL],
    ['a lone UTF-16 surrogate', LONE_SURROGATE],
  ])('refuses %s on every route with 400, and changes nothing', async (_, bad) => {
    const before = await counts();
    for (const [service, method, path, body] of attempts(bad)) {
      const answer = await http<{ message?: string[] }>(method, url(service, path), body);
      expect(answer.status, `${service} ${method} ${path}`).toBe(400);
      expect(JSON.stringify(answer.body), `${service} ${method} ${path}`).toMatch(/cannot be stored|percent-encoding/);
    }
    expect(await counts()).toEqual(before);
  });

  it('refuses numbers beyond what the money arithmetic holds with 400, not 500', async () => {
    const user = await http<{ userId: string }>('POST', url('orders', '/users'), {
      email: `${uuid()}@example.com`,
      name: 'Max',
    });
    const huge = Array.from({ length: 100 }, (_, i) => ({
      sku: `SKU-${i}`,
      quantity: 1_000_000,
      unitPrice: 100_000_000,
    }));
    const order = await http<{ message: string[] }>('POST', url('orders', '/orders'), {
      userId: user.body.userId,
      items: huge,
    });
    expect(order.status).toBe(400);
    expect(order.body.message.join(' ')).toMatch(/order total/);
    await waitFor('the account to open', async () => {
      return (await http('GET', url('payments', `/accounts/${user.body.userId}`))).status === 200;
    });
    const deposit = await http('POST', url('payments', `/accounts/${user.body.userId}/deposits`), { amount: 1e16 });
    expect(deposit.status).toBe(400);
    const account = await http<{ balance: number }>('GET', url('payments', `/accounts/${user.body.userId}`));
    expect(account.body.balance).toBe(0);
  });

  it('reserves an Idempotency-Key before publishing: another body with the same key gets 422 while the queue is backed up', async () => {
    const user = await http<{ userId: string }>('POST', url('orders', '/users'), {
      email: `${uuid()}@example.com`,
      name: 'Ida',
    });
    const userId = user.body.userId;
    const order = (unitPrice: number) => ({ userId, items: [{ sku: 'SKU-IDEM', quantity: 1, unitPrice }] });
    // Orders ahead in the queue: the worker (one task every two seconds) is seconds behind.
    for (let i = 0; i < 4; i++) expect((await http('POST', url('orders', '/orders'), order(100 + i))).status).toBe(202);
    const key = { 'idempotency-key': uuid() };
    const first = await http<{ orderId: string }>('POST', url('orders', '/orders'), order(500), key);
    expect(first.status).toBe(202);
    const [stored] = await query<{ n: number }>(env, 'orders', 'SELECT count(*)::int AS n FROM orders WHERE id = $1', [
      first.body.orderId,
    ]);
    expect(stored!.n, 'the first task still waits in the queue').toBe(0);
    const other = await http<{ message: string }>('POST', url('orders', '/orders'), order(900), key);
    expect(other.status).toBe(422);
    const same = await http<{ orderId: string }>('POST', url('orders', '/orders'), order(500), key);
    expect(same.status).toBe(202);
    expect(same.body.orderId).toBe(first.body.orderId);
    const stored500 = await waitFor(
      'the order, with the first body',
      async () => {
        const rows = await query<{ total: string }>(env, 'orders', 'SELECT total FROM orders WHERE id = $1', [
          first.body.orderId,
        ]);
        return rows[0];
      },
      { timeoutMs: 60_000 },
    );
    expect(Number(stored500.total)).toBe(500);
  }, 90_000);
});
