import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queues } from '@am/messaging';
import { http, startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';

// Request/reply over RabbitMQ (docs/request-reply.md): `GET /availability/:sku` on orders asks inventory through
// `queries` and waits for the answer on the process's own reply queue. Two orders processes run, as in production
// with competing consumers; each must get its own answers.
const TIMEOUT_MS = 1_500;
const env = testEnv();
let inventory: ServiceProcess;
let orders: ServiceProcess[];

/** One counter of a process's /metrics (0 when absent), summed over the label sets that match `labels`. */
async function counter(process: ServiceProcess, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${process.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

const availability = (process: ServiceProcess, sku: string, query = '') =>
  http<{ sku: string; quantity: number; available: number; enough: boolean; message?: string }>(
    'GET',
    `${process.url}/availability/${encodeURIComponent(sku)}${query}`,
  );

beforeAll(async () => {
  const extra = { orders: { REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) } };
  const [first, second, others] = await Promise.all([
    startServices(['orders'], extra),
    startServices(['orders'], extra),
    startServices(['inventory']),
  ]);
  orders = [first.orders!, second.orders!];
  inventory = others.inventory!;
}, 120_000);

afterAll(async () => {
  await Promise.all([inventory, ...(orders ?? [])].filter(Boolean).map((s) => s.stop()));
});

describe('GET /availability/:sku: request/reply from orders to inventory over RabbitMQ', () => {
  it("answers with inventory's stock after a PUT /stock, from either orders process", async () => {
    const sku = `RR-${randomUUID().slice(0, 8)}`;
    expect((await http('PUT', `${inventory.url}/stock/${sku}`, { quantity: 7 })).status).toBe(200);
    for (const process of orders) {
      const enough = await availability(process, sku, '?quantity=5');
      expect(enough.status).toBe(200);
      expect(enough.body).toEqual({ sku, quantity: 5, available: 7, enough: true });
      const short = await availability(process, sku, '?quantity=8');
      expect(short.body).toEqual({ sku, quantity: 8, available: 7, enough: false });
    }
    expect((await availability(orders[0]!, sku)).body).toMatchObject({ quantity: 1, enough: true });
    expect((await availability(orders[0]!, `never-${sku}`)).body).toMatchObject({ available: 0, enough: false });
  });

  it('gives each of two orders processes its own answers when both ask at once', async () => {
    const sku = `RR2-${randomUUID().slice(0, 8)}`;
    await http('PUT', `${inventory.url}/stock/${sku}`, { quantity: 25 });
    const dropped = await Promise.all(orders.map((o) => counter(o, 'replies_dropped_total')));
    const asks = Array.from({ length: 60 }, (_, i) => ({ process: orders[i % 2]!, quantity: i + 1 }));
    const answers = await Promise.all(asks.map((a) => availability(a.process, sku, `?quantity=${a.quantity}`)));
    answers.forEach((answer, i) => {
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ sku, quantity: i + 1, available: 25, enough: i + 1 <= 25 });
    });
    // No reply reached a process that did not ask (it would be dropped there as unknown, and the asker time out).
    expect(await Promise.all(orders.map((o) => counter(o, 'replies_dropped_total')))).toEqual(dropped);
  });

  it('refuses bad input with 400 and sends nothing', async () => {
    const answered = () => inventory.consumed(Queues.inventoryQueries);
    const before = await answered();
    for (const [sku, query] of [
      ['SKU-1', '?quantity=0'],
      ['SKU-1', '?quantity=abc'],
      ['SKU-1', '?quantity=1.5'],
      ['SKU-1', '?quantity=-2'],
      ['SKU-1', '?quantity=10000001'],
      ['SKU-1', '?quantity=1&extra=1'],
      ['x'.repeat(65), ''],
    ] as const) {
      const refused = await availability(orders[0]!, sku, query);
      expect(refused.status, `${sku} ${query}`).toBe(400);
      expect(JSON.stringify(refused.body)).toMatch(/quantity|SKU|extra|unrecognized/i);
    }
    // One good request afterwards: the only one inventory has answered since.
    expect((await availability(orders[0]!, 'SKU-1')).status).toBe(200);
    await waitFor('the answer to be counted', async () => (await answered()) === before + 1, { timeoutMs: 5_000 });
    expect(await answered()).toBe(before + 1);
  });

  it('answers 504 after the timeout when inventory is down, and the unanswered request expires', async () => {
    await inventory.stop();
    const timeouts = await counter(orders[1]!, 'request_timeouts_total', Queues.inventoryQueries);
    const connection = await amqp.connect(env.adminAmqpUrl);
    const channel = await connection.createChannel();
    const depth = async () => (await channel.checkQueue(Queues.inventoryQueries)).messageCount;
    const started = Date.now();
    const asked = availability(orders[1]!, 'SKU-1', '?quantity=3');
    // Meanwhile the request waits in inventory-queries, where nobody takes it.
    await waitFor('the request in its queue', async () => (await depth()) === 1, { timeoutMs: 1_000, intervalMs: 50 });
    const answer = await asked;
    const took = Date.now() - started;
    expect(answer.status).toBe(504);
    expect(answer.body.message).toMatch(/inventory did not answer within 1500 ms/);
    expect(took).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(took).toBeLessThan(TIMEOUT_MS + 2_000);
    expect(await counter(orders[1]!, 'request_timeouts_total', Queues.inventoryQueries)).toBe(timeouts + 1);
    // Its TTL was the timeout: it does not wait in inventory-queries for an inventory that comes back.
    await waitFor('the request to expire', async () => (await depth()) === 0, { timeoutMs: 5_000, intervalMs: 100 });
    await connection.close();
  });
});
