import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenIssuer } from '@am/messaging';
import {
  TEST_KEYS_DIR,
  http,
  openStream,
  operatorToken,
  query,
  serviceToken,
  startAllServices,
  startConsole,
  testEnv,
  waitFor,
  type ServiceProcess,
} from '@am/testing';
import { ROUTES, admits, type CallerKind, type RouteRule } from './routes.js';

// The authorization matrix on the six real services: every route x {no token, its own customer, another customer,
// an operator, a service}. A refused call answers 401 (no token, or one that does not verify) or 403 (a role or a
// customer the route does not accept), with a JSON reason, and changes nothing; an admitted one gets past the rule.
let services: Record<string, ServiceProcess>;
const env = testEnv();
interface Customer {
  userId: string;
  email: string;
  token: string;
}
let alice: Customer;
let bob: Customer;
let aliceOrder: string;
const sku = `AUTHZ-${randomUUID().slice(0, 8)}`;
const labDir = mkdtempSync(path.join(os.tmpdir(), 'authz-lab-'));

const url = (rule: RouteRule) => services[rule.service]!.url;

async function register(name: string): Promise<Customer> {
  const email = `${name}-${randomUUID()}@example.com`;
  const answer = await http<{ userId: string; token: string }>(
    'POST',
    `${services.orders!.url}/users`,
    { email, name },
    { authorization: '' },
  );
  expect(answer.status).toBe(201);
  return { userId: answer.body.userId, email, token: answer.body.token };
}

/** The request each route gets: Alice's ids in the path and body, bodies that would change state if admitted. */
function requestFor(rule: RouteRule): { path: string; body?: unknown } {
  const order = { userId: alice.userId, items: [{ sku, quantity: 1, unitPrice: 100 }] };
  const made = randomUUID();
  switch (`${rule.method} ${rule.route}`) {
    case 'POST /users':
      return { path: '/users', body: { email: `someone-${randomUUID()}@example.com`, name: 'Someone' } };
    case 'POST /orders':
    case 'POST /orders/sync':
      return { path: rule.route, body: order };
    case 'GET /orders/:id':
      return { path: `/orders/${aliceOrder}` };
    case 'PUT /stock/:sku':
      return { path: `/stock/${sku}`, body: { quantity: 1_000 } };
    case 'GET /sagas':
      return { path: '/sagas' };
    case 'GET /stock/:sku':
      return { path: `/stock/${sku}` };
    case 'GET /availability/:sku':
      return { path: `/availability/${sku}?quantity=1` };
    case 'POST /reservations':
      return { path: '/reservations', body: { orderId: made, items: [{ sku, quantity: 1 }] } };
    case 'POST /reservations/:orderId/release':
      return { path: `/reservations/${aliceOrder}/release`, body: {} };
    case 'POST /payments':
      return { path: '/payments', body: { orderId: made, userId: alice.userId, amount: 100 } };
    case 'POST /payments/:orderId/refund':
      return { path: `/payments/${aliceOrder}/refund`, body: { userId: alice.userId } };
    case 'GET /accounts/:userId':
      return { path: `/accounts/${alice.userId}` };
    case 'GET /accounts/:userId/events':
      return { path: `/accounts/${alice.userId}/events` };
    case 'POST /accounts/:userId/deposits':
      return { path: `/accounts/${alice.userId}/deposits`, body: { amount: 100 } };
    case 'GET /emails':
      return { path: `/emails?to=${encodeURIComponent(alice.email)}` };
    case 'GET /analytics/summary':
      return { path: '/analytics/summary' };
    case 'GET /analytics/accounts':
      return { path: '/analytics/accounts' };
    case 'GET /analytics/order-metrics':
      return { path: '/analytics/order-metrics' };
    case 'GET /analytics/accounts/:accountId':
      return { path: `/analytics/accounts/${alice.userId}` };
    case 'GET /audit':
      return { path: `/audit?correlationId=${aliceOrder}` };
    case 'GET /dead-letters':
      return { path: '/dead-letters' };
    case 'GET /dead-letters/:id':
      return { path: '/dead-letters/1' };
    case 'GET /dead-letters/:id/content':
      return { path: '/dead-letters/1/content' };
    case 'POST /dead-letters/:id/replay':
      return { path: '/dead-letters/1/replay' };
    case 'GET /dead-letters/:id/replay-plan':
      return { path: '/dead-letters/1/replay-plan' };
    case 'GET /dead-letter-groups':
      return { path: '/dead-letter-groups' };
    case 'GET /operator-actions':
      return { path: '/operator-actions' };
    case 'GET /dead-letter-groups/:fingerprint':
      return { path: '/dead-letter-groups/000000000000' };
    case 'POST /dead-letter-replays':
      // A rate of 0: 400 once past the rule, so the matrix replays nothing.
      return { path: '/dead-letter-replays', body: { ids: ['1'], perSecond: 0 } };
    case 'GET /dead-letter-replays':
      return { path: '/dead-letter-replays' };
    case 'GET /dead-letter-replays/:id':
    case 'DELETE /dead-letter-replays/:id':
      return { path: '/dead-letter-replays/999999999' };
    case 'GET /faults':
      return { path: '/faults' };
    case 'POST /faults':
      // An empty body: 400 once past the rule, so the matrix switches no fault on.
      return { path: '/faults', body: {} };
    case 'DELETE /faults/:id':
      return { path: `/faults/${made}` };
    case 'POST /faults/poison':
      // No variant: 400 once past the rule, so the matrix sends no poison message.
      return { path: '/faults/poison', body: { destination: 'user-events' } };
    case 'GET /consumer-groups':
      return { path: '/consumer-groups' };
    case 'GET /consumer-groups/:group/reset-preview':
      return { path: '/consumer-groups/audit/reset-preview?to=earliest' };
    case 'POST /consumer-groups/:group/reset':
      // No target: 400 once past the rule (404 on a service without the group), so the matrix moves no offset.
      return { path: '/consumer-groups/audit/reset', body: {} };
    case 'GET /analytics/rebuild':
      return { path: '/analytics/rebuild' };
    case 'POST /analytics/rebuild':
      // Admitted, it starts a rebuild (a read model rebuilt from its log stays what it was); 409 while one runs.
      return { path: '/analytics/rebuild', body: {} };
    case 'GET /api/consumer-groups':
    case 'GET /api/analytics/rebuild':
      return { path: rule.route };
    case 'GET /api/consumer-groups/:group/reset-preview':
      return { path: '/api/consumer-groups/audit/reset-preview?to=latest' };
    case 'POST /api/consumer-groups/:group/reset':
      // No target: the console's 400 once past the rule, so the matrix moves no offset.
      return { path: '/api/consumer-groups/audit/reset', body: {} };
    case 'POST /api/analytics/rebuild':
      return { path: '/api/analytics/rebuild', body: {} };
    case 'GET /':
    case 'GET /assets/console.css':
    case 'GET /session':
    case 'POST /session':
    case 'DELETE /session':
    case 'GET /api/stream':
    case 'GET /api/sagas':
      return { path: rule.route };
    case 'GET /assets/:module':
      return { path: '/assets/app.js' };
    case 'GET /api/story':
      return { path: `/api/story?id=${aliceOrder}` };
    case 'GET /api/accounts/:userId':
      return { path: `/api/accounts/${alice.userId}` };
    case 'GET /api/faults':
      return { path: '/api/faults' };
    case 'POST /api/faults':
      // A fault without its kind: the console's 400 once past the rule, so the matrix switches no fault on.
      return { path: '/api/faults', body: { service: 'payments' } };
    case 'DELETE /api/faults/:service/:id':
      return { path: `/api/faults/payments/${made}` };
    case 'GET /api/dead-letter-groups':
      return { path: '/api/dead-letter-groups' };
    case 'GET /api/dead-letter-groups/:id':
      return { path: '/api/dead-letter-groups/000000000000' };
    case 'GET /api/dead-letters/:id':
      return { path: '/api/dead-letters/999999999' };
    case 'GET /api/dead-letters/:id/replay-plan':
      return { path: '/api/dead-letters/999999999/replay-plan' };
    case 'POST /api/dead-letters/:id/replay':
      // A dead letter that is not there: 404 once past the rule, nothing replayed.
      return { path: '/api/dead-letters/999999999/replay', body: {} };
    case 'GET /api/dead-letter-replays':
      return { path: '/api/dead-letter-replays' };
    case 'POST /api/dead-letter-replays':
      return { path: '/api/dead-letter-replays', body: { ids: ['1'], perSecond: 0 } };
    case 'GET /api/dead-letter-replays/:id':
    case 'DELETE /api/dead-letter-replays/:id':
      return { path: '/api/dead-letter-replays/999999999' };
    case 'GET /api/operator-actions':
      return { path: '/api/operator-actions' };
    case 'POST /api/faults/poison':
      // No variant: the console's 400 once past the rule, so the matrix sends no poison message.
      return { path: '/api/faults/poison', body: { service: 'orders', destination: 'user-events' } };
    case 'GET /api/lab/runs':
      return { path: '/api/lab/runs' };
    case 'POST /api/lab/runs':
      // A burst of no orders: the lab's 400 once past the rule, so the matrix starts no run.
      return { path: '/api/lab/runs', body: { requests: 0 } };
    case 'GET /api/lab/runs/:id':
      // A run that was never kept: 404 once past the rule.
      return { path: '/api/lab/runs/20261203-000000-0000' };
    default:
      throw new Error(`no request for ${rule.method} ${rule.route}: add one`);
  }
}

async function tokenOf(caller: CallerKind): Promise<string | undefined> {
  switch (caller) {
    case 'none':
      return undefined;
    case 'own':
      return alice.token;
    case 'other':
      return bob.token;
    case 'operator':
      return operatorToken();
    case 'service':
      return serviceToken();
  }
}

async function call(rule: RouteRule, caller: CallerKind | { token: string }) {
  const { path, body } = requestFor(rule);
  const token = typeof caller === 'string' ? await tokenOf(caller) : caller.token;
  const authorization = token ? `Bearer ${token}` : '';
  if (rule.route === '/api/stream') return openStream(`${url(rule)}${path}`, authorization);
  return http<{ error?: string; reason?: string }>(rule.method, `${url(rule)}${path}`, body, { authorization });
}

/** What a refused call must not have changed: Alice's money and stock, orders, e-mails, dead letters and users. */
async function snapshot() {
  const [balance] = await query<{ b: string }>(
    env,
    'payments',
    'SELECT coalesce(sum(balance), 0)::text AS b FROM account_balances',
  );
  const [stock] = await query<{ s: string }>(
    env,
    'inventory',
    'SELECT coalesce(sum(available), 0)::text AS s FROM stock',
  );
  const [orders] = await query<{ n: number }>(env, 'orders', 'SELECT count(*)::int AS n FROM orders');
  const [users] = await query<{ n: number }>(env, 'orders', 'SELECT count(*)::int AS n FROM users');
  const [reservations] = await query<{ n: number }>(env, 'inventory', 'SELECT count(*)::int AS n FROM reservations');
  return { balance: balance?.b, stock: stock?.s, orders: orders?.n, users: users?.n, reservations: reservations?.n };
}

beforeAll(async () => {
  services = await startAllServices();
  // The burst lab allowed (as ./stack up does), its runs kept in a directory of this test's own.
  services.console = (await startConsole(services, {
    LAB_ALLOWED: '1',
    LAB_RESULTS_DIR: labDir,
  })) as unknown as ServiceProcess;
  alice = await register('alice');
  bob = await register('bob');
  await http('PUT', `${services.inventory!.url}/stock/${sku}`, { quantity: 10 });
  await waitFor(
    "Alice's account",
    async () => (await http('GET', `${services.payments!.url}/accounts/${alice.userId}`)).status === 200,
    { timeoutMs: 30_000 },
  );
  // Money for her order, so that it is confirmed: a cancelled one would release its stock later, asynchronously.
  await http('POST', `${services.payments!.url}/accounts/${alice.userId}/deposits`, { amount: 10_000 });
  const placed = await http<{ orderId: string }>(
    'POST',
    `${services.orders!.url}/orders`,
    { userId: alice.userId, items: [{ sku, quantity: 1, unitPrice: 100 }] },
    { authorization: `Bearer ${alice.token}` },
  );
  expect(placed.status).toBe(202);
  aliceOrder = placed.body.orderId;
  // Its saga ends before the matrix starts, so that nothing changes the state the refused calls must leave alone.
  await waitFor(
    "Alice's order to end",
    async () => {
      const got = await http<{ status: string }>('GET', `${services.orders!.url}/orders/${aliceOrder}`);
      return got.status === 200 && got.body.status !== 'PENDING';
    },
    { timeoutMs: 60_000 },
  );
  // And nothing of the setup still moving: the state the refused calls must leave alone is still for 1 s.
  let last = JSON.stringify(await snapshot());
  await waitFor(
    'the state to settle',
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const now = JSON.stringify(await snapshot());
      const still = now === last;
      last = now;
      return still;
    },
    { timeoutMs: 30_000 },
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
  rmSync(labDir, { recursive: true, force: true });
});

const CALLERS: CallerKind[] = ['none', 'own', 'other', 'operator', 'service'];

describe('the attack paths of issue 13, each refused', () => {
  it("Bob cannot withdraw from Alice's account, refund her order or release its stock, read her account, orders or e-mails", async () => {
    const byBob = { authorization: `Bearer ${bob.token}` };
    const before = await snapshot();
    const { payments, inventory, email, orders } = {
      payments: services.payments!.url,
      inventory: services.inventory!.url,
      email: services.email!.url,
      orders: services.orders!.url,
    };
    const answers = [
      await http('POST', `${payments}/payments`, { orderId: randomUUID(), userId: alice.userId, amount: 5_000 }, byBob),
      await http('POST', `${payments}/payments/${aliceOrder}/refund`, { userId: alice.userId }, byBob),
      await http('POST', `${inventory}/reservations/${aliceOrder}/release`, {}, byBob),
      await http('POST', `${payments}/accounts/${alice.userId}/deposits`, { amount: 1 }, byBob),
      await http('GET', `${payments}/accounts/${alice.userId}`, undefined, byBob),
      await http('GET', `${email}/emails?to=${encodeURIComponent(alice.email)}`, undefined, byBob),
      await http(
        'POST',
        `${orders}/orders`,
        { userId: alice.userId, items: [{ sku, quantity: 1, unitPrice: 1 }] },
        byBob,
      ),
    ];
    expect(answers.map((a) => a.status)).toEqual([403, 403, 403, 403, 403, 403, 403]);
    expect((await http('GET', `${orders}/orders/${aliceOrder}`, undefined, byBob)).status).toBe(404);
    expect(await snapshot()).toEqual(before);
  });

  it('a customer cannot replay a dead letter or read the audit trail; an operator can', async () => {
    const audit = services.audit!.url;
    const asAlice = { authorization: `Bearer ${alice.token}` };
    expect((await http('POST', `${audit}/dead-letters/1/replay`, undefined, asAlice)).status).toBe(403);
    expect((await http('GET', `${audit}/dead-letters`, undefined, asAlice)).status).toBe(403);
    expect((await http('GET', `${audit}/audit?correlationId=${aliceOrder}`, undefined, asAlice)).status).toBe(403);
    expect((await http('GET', `${audit}/dead-letters`)).status).toBe(200);
  });
});

describe('the authorization matrix', () => {
  it('refuses every caller a route does not accept with 401/403 and a reason, and nothing changes', async () => {
    const before = await snapshot();
    const wrong: string[] = [];
    for (const rule of ROUTES) {
      for (const caller of CALLERS.filter((c) => !admits(rule, c))) {
        const answer = await call(rule, caller);
        const expected = caller === 'none' ? 401 : caller === 'other' && rule.otherCustomer ? rule.otherCustomer : 403;
        const reasonOk = expected === 404 || (typeof answer.body?.reason === 'string' && answer.body.reason.length > 0);
        if (answer.status !== expected || !reasonOk) {
          wrong.push(`${rule.method} ${rule.route} as ${caller}: ${answer.status} ${JSON.stringify(answer.body)}`);
        }
        if (caller === 'none' && answer.headers.get('www-authenticate') !== 'Bearer') {
          wrong.push(`${rule.method} ${rule.route} as none: no WWW-Authenticate: Bearer`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(await snapshot()).toEqual(before);
  }, 120_000);

  it('refuses a token that does not verify: another key, expired, garbage, a tampered signature (401), and /health and /metrics stay open', async () => {
    const { privateKey } = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const forged = await new TokenIssuer(privateKey).issue({ role: 'operator', subject: 'mallory' });
    const expired = await TokenIssuer.fromDir(TEST_KEYS_DIR).issue({ role: 'operator', subject: 'late' }, -60);
    const summary = ROUTES.find((r) => r.route === '/analytics/summary')!;
    for (const token of [forged, expired, 'not.a.token', `${(await operatorToken()).slice(0, -4)}AAAA`]) {
      const answer = await call(summary, { token });
      expect(answer.status, token.slice(0, 20)).toBe(401);
      expect(answer.body.error).toBe('unauthorized');
    }
    for (const service of Object.values(services)) {
      expect((await http('GET', `${service.url}/health`, undefined, { authorization: '' })).status).toBe(200);
      expect((await http('GET', `${service.url}/metrics`, undefined, { authorization: '' })).status).toBe(200);
    }
  });

  // Last: admitted calls start sagas and deposits that would change the state the refused calls leave alone.
  it('lets every caller a route accepts past the rule (no 401/403)', async () => {
    const wrong: string[] = [];
    for (const rule of ROUTES) {
      for (const caller of CALLERS.filter((c) => admits(rule, c))) {
        const answer = await call(rule, caller);
        if (answer.status === 401 || answer.status === 403 || answer.status >= 500) {
          wrong.push(`${rule.method} ${rule.route} as ${caller}: ${answer.status} ${JSON.stringify(answer.body)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  }, 120_000);
});
