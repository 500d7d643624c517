import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  http,
  openStream,
  operatorToken,
  serviceToken,
  startAllServices,
  startConsole,
  waitFor,
  type ServiceProcess,
} from '@am/testing';
import { ROUTES, type RouteRule } from './routes.js';

// Property-based: arbitrary strings, numbers and JSON thrown at every route of the six real services and the control
// room, as every kind
// of caller. No input a client can send gets a 500 (a dependency outage may answer 503, the synchronous baseline
// 503/504 when a downstream call fails), and every order accepted with 202 reaches CONFIRMED or CANCELLED.
let services: Record<string, ServiceProcess>;
let alice: { userId: string; token: string; email: string };
const sku = `FUZZ-${randomUUID().slice(0, 8)}`;
const accepted: string[] = [];
const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);

beforeAll(async () => {
  services = await startAllServices();
  services.console = (await startConsole(services)) as unknown as ServiceProcess;
  const email = `fuzz-${randomUUID()}@example.com`;
  const user = await http<{ userId: string; token: string }>('POST', `${services.orders!.url}/users`, {
    email,
    name: 'Fuzz',
  });
  alice = { ...user.body, email };
  await http('PUT', `${services.inventory!.url}/stock/${sku}`, { quantity: 1_000_000 });
  await waitFor(
    'the account',
    async () => (await http('GET', `${services.payments!.url}/accounts/${alice.userId}`)).status === 200,
    { timeoutMs: 30_000 },
  );
  await http('POST', `${services.payments!.url}/accounts/${alice.userId}/deposits`, { amount: 1_000_000_000 });
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

/**
 * A string as a client puts it in a URL: its UTF-8 bytes percent-encoded, or (for strings that are already
 * percent-encodings, some of them malformed or of a lone surrogate) as they are.
 */
const RAW = ['%ED%A0%80', '%E0%A4%A', '%00', '%', '%zz'];
const inUrl = (value: string) =>
  RAW.includes(value)
    ? value
    : [...Buffer.from(value, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

/** Strings a client can send, weighted toward what breaks servers: NUL, lone surrogates, huge, numeric-looking. */
const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('\u0000', '\ud800', 'a\udfffb', '../..', '-1', '1e309', 'NaN', '9'.repeat(40), '', ...RAW),
  fc.uuid(),
);
const numbers = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 1e16, Number.MAX_SAFE_INTEGER, 2 ** 63, -(2 ** 63), 1.5),
);
/** Bodies near the real ones (right shape, odd values), and arbitrary JSON or not-JSON. */
const orderish = fc.record(
  {
    userId: fc.oneof(fc.constant('ALICE'), nasty),
    items: fc.array(fc.record({ sku: fc.oneof(fc.constant(sku), nasty), quantity: numbers, unitPrice: numbers }), {
      maxLength: 3,
    }),
    amount: numbers,
    quantity: numbers,
    orderId: fc.oneof(fc.uuid(), nasty),
    email: nasty,
    name: nasty,
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  orderish.map((o) => JSON.stringify(o).replace(/"ALICE"/g, JSON.stringify(alice.userId))),
  fc.json(),
  nasty,
);
const caller = fc.constantFrom('none', 'own', 'operator', 'service');

function fill(rule: RouteRule, param: string, useReal: boolean): string {
  return rule.route.replace(/:(\w+)/g, (_, name: string) => {
    if (useReal && (name === 'userId' || name === 'id')) return alice.userId;
    if (useReal && name === 'sku') return sku;
    return inUrl(param);
  });
}

describe('every route, arbitrary input', () => {
  it('never answers 500, whatever the path, query, body and caller', async () => {
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        nasty,
        fc.boolean(),
        body,
        nasty,
        caller,
        async (rule, param, useReal, payload, query, who) => {
          const token =
            who === 'none'
              ? ''
              : who === 'own'
                ? alice.token
                : who === 'operator'
                  ? await operatorToken()
                  : await serviceToken();
          const q = inUrl(query);
          const path = `${fill(rule, param, useReal)}?to=${q}&correlationId=${q}&limit=${q}&queue=${q}&before=${q}&id=${q}`;
          const url = `${services[rule.service]!.url}${path}`;
          const authorization = token ? `Bearer ${token}` : '';
          const answer =
            rule.route === '/api/stream'
              ? await openStream(url, authorization)
              : await http<{ orderId?: string }>(rule.method, url, rule.method === 'GET' ? undefined : payload, {
                  authorization,
                });
          const orderId = (answer.body as { orderId?: string } | undefined)?.orderId;
          if (rule.route === '/orders' && answer.status === 202 && orderId) {
            accepted.push(orderId);
          }
          const downstream = rule.route === '/orders/sync' && [503, 504].includes(answer.status);
          if (answer.status >= 500 && !downstream) {
            failures.push(
              `${rule.method} ${path} as ${who} with ${JSON.stringify(payload).slice(0, 200)}: ${answer.status}`,
            );
          }
          return answer.status < 500 || downstream;
        },
      ),
      { numRuns: RUNS },
    );
    expect(failures).toEqual([]);
  }, 300_000);

  it('takes every order it accepted (202) to CONFIRMED or CANCELLED', async () => {
    // Alice's own orders with odd but valid values, so that some are accepted whatever the run above drew.
    for (const [quantity, unitPrice] of [
      [1, 1],
      [2, 999_999],
      [1_000, 1],
    ] as const) {
      const answer = await http<{ orderId: string }>(
        'POST',
        `${services.orders!.url}/orders`,
        { userId: alice.userId, items: [{ sku, quantity, unitPrice }] },
        { authorization: `Bearer ${alice.token}` },
      );
      expect(answer.status).toBe(202);
      accepted.push(answer.body.orderId);
    }
    const pending = new Set(accepted);
    await waitFor(
      `${accepted.length} accepted orders to end`,
      async () => {
        for (const id of [...pending]) {
          const got = await http<{ status: string }>('GET', `${services.orders!.url}/orders/${id}`);
          if (got.status === 200 && ['CONFIRMED', 'CANCELLED'].includes(got.body.status)) pending.delete(id);
        }
        return pending.size === 0;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(pending.size).toBe(0);
  }, 120_000);
});
