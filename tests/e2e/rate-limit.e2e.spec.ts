import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query, startServices, testEnv, tokenFor, type ServiceProcess } from '@am/testing';

// The HTTP rate limit (RATE_LIMIT, per client address), on a real orders process. The other tiers run with it off;
// here it is 20 requests per 10 s, and the clients are two loopback addresses: 127.0.0.1 floods, 127.0.0.2 is a
// different client of the same service.
const LIMIT = 20;
let orders: ServiceProcess;

beforeAll(async () => {
  ({ orders } = (await startServices(['orders'], { orders: { RATE_LIMIT: `${LIMIT}/10s` } })) as {
    orders: ServiceProcess;
  });
});

afterAll(async () => {
  await orders?.stop();
});

interface Answer {
  status: number;
  retryAfter?: string;
  body: string;
}

/** One request from a chosen local address (fetch cannot choose it). */
/** A service token of its own for each name: the limiter also counts per token. */
const tokenOf = (name: string) => tokenFor({ role: 'service', subject: `rate-limit-${name}` });

async function call(from: string, method: string, path: string, body?: unknown, token = 'flood'): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const authorization = `Bearer ${await tokenOf(token)}`;
  return new Promise((resolve, reject) => {
    const req = request(
      `${orders.url}${path}`,
      {
        method,
        localAddress: from,
        headers: {
          authorization,
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'],
            body: text,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('rate limits per client address and per token', () => {
  it('answers a flood with 429 and Retry-After, changes nothing, keeps /health open and serves another client', async () => {
    const [before] = await query<{ n: number }>(testEnv(), 'orders', 'SELECT count(*)::int AS n FROM orders');
    const flood: Answer[] = [];
    for (let i = 0; i < LIMIT + 10; i++) flood.push(await call('127.0.0.1', 'GET', `/orders/${randomUUID()}`));
    expect(flood.slice(0, LIMIT).map((a) => a.status)).toEqual(Array(LIMIT).fill(404));
    const refused = flood.slice(LIMIT);
    expect(refused.map((a) => a.status)).toEqual(Array(10).fill(429));
    for (const answer of refused) {
      expect(Number(answer.retryAfter)).toBeGreaterThan(0);
      expect(Number(answer.retryAfter)).toBeLessThanOrEqual(10);
      expect(JSON.parse(answer.body)).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    }

    // Refused before any work: an order sent now is not taken. Had it been, the orders worker (running, consuming
    // order-processing) would have stored it within the second waited here.
    const order = await call('127.0.0.1', 'POST', '/orders', {
      userId: randomUUID(),
      items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }],
    });
    expect(order.status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const [after] = await query<{ n: number }>(testEnv(), 'orders', 'SELECT count(*)::int AS n FROM orders');
    expect(after!.n).toBe(before!.n);

    // Monitoring is never limited, and another client address has its own budget.
    expect((await call('127.0.0.1', 'GET', '/health')).status).toBe(200);
    expect((await call('127.0.0.1', 'GET', '/metrics')).status).toBe(200);
    expect((await call('127.0.0.2', 'GET', `/orders/${randomUUID()}`, undefined, 'other')).status).toBe(404);
  });

  it('limits a token across addresses too: the same token from two addresses, each under its own limit', async () => {
    const answers: Answer[] = [];
    for (let i = 0; i < LIMIT + 4; i++) {
      answers.push(
        await call(i % 2 ? '127.0.0.3' : '127.0.0.4', 'GET', `/orders/${randomUUID()}`, undefined, 'shared'),
      );
    }
    // Each address sent 12 (under 20); the token sent 24.
    expect(answers.slice(0, LIMIT).map((a) => a.status)).toEqual(Array(LIMIT).fill(404));
    expect(answers.slice(LIMIT).map((a) => a.status)).toEqual(Array(4).fill(429));
    expect(JSON.parse(answers.at(-1)!.body).message).toContain('from this token');
    // Another token from the same addresses is served.
    expect((await call('127.0.0.3', 'GET', `/orders/${randomUUID()}`, undefined, 'fresh')).status).toBe(404);
  });
});
