import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queues } from '@am/messaging';
import { http, query, startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';

// Competing consumers (the article's task queue, scaled out): two orders processes consume one `order-processing`
// queue. RabbitMQ gives each message to one of them; together they handle every order exactly once, and both work.
// Each process counts what it handled (`messages_consumed_total` on its /metrics), so the split is measured, not
// guessed.
const ORDERS = 200;
let services: Record<string, ServiceProcess>;
let second: ServiceProcess;
const url = (service: string, path: string) => `${services[service]!.url}${path}`;

beforeAll(async () => {
  services = await startServices(['orders', 'inventory', 'payments']);
  ({ orders: second } = (await startServices(['orders'])) as { orders: ServiceProcess });
}, 120_000);

afterAll(async () => {
  await Promise.all([...Object.values(services ?? {}), second].filter(Boolean).map((s) => s.stop()));
});

describe('competing consumers on order-processing', () => {
  it('shares a burst between two orders workers: every order handled once, and both busy', async () => {
    const before = [
      await services.orders!.consumed(Queues.orderProcessing),
      await second.consumed(Queues.orderProcessing),
    ];
    const user = await http<{ userId: string }>('POST', url('orders', '/users'), {
      email: `${randomUUID()}@example.com`,
      name: 'Competing Consumers',
    });
    expect(user.status).toBe(201);
    const { userId } = user.body;
    await waitFor(
      'payments to open the account',
      async () => (await http('GET', url('payments', `/accounts/${userId}`))).status === 200,
    );
    expect((await http('POST', url('payments', `/accounts/${userId}/deposits`), { amount: 1_000_000 })).status).toBe(
      201,
    );
    const sku = `CC-${randomUUID().slice(0, 8)}`;
    expect((await http('PUT', url('inventory', `/stock/${sku}`), { quantity: ORDERS })).status).toBe(200);

    // A burst into one intake: the queue fills faster than one worker drains it.
    const ids: string[] = [];
    for (let i = 0; i < ORDERS; i += 50) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, () =>
          http<{ orderId: string }>('POST', url('orders', '/orders'), {
            userId,
            items: [{ sku, quantity: 1, unitPrice: 100 }],
          }),
        ),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(202);
        ids.push(answer.body.orderId);
      }
    }

    const env = testEnv();
    await waitFor(
      `all ${ORDERS} orders to settle`,
      async () => {
        const [row] = await query<{ n: number }>(
          env,
          'orders',
          `SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[]) AND status <> 'PENDING'`,
          [ids],
        );
        return row!.n === ORDERS;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const statuses = await query<{ status: string; n: number }>(
      env,
      'orders',
      'SELECT status, count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[]) GROUP BY status',
      [ids],
    );
    expect(statuses).toEqual([{ status: 'CONFIRMED', n: ORDERS }]);

    const handled = [
      (await services.orders!.consumed(Queues.orderProcessing)) - before[0]!,
      (await second.consumed(Queues.orderProcessing)) - before[1]!,
    ];
    // Once each: the two counts add up to the orders placed (no order handled by both, none by neither).
    expect(handled[0]! + handled[1]!).toBe(ORDERS);
    // Both busy: each worker took a real share of the burst (RabbitMQ hands out messages to whoever has credit).
    for (const share of handled) expect(share).toBeGreaterThanOrEqual(ORDERS * 0.1);
    console.log(`competing consumers: worker 1 handled ${handled[0]}, worker 2 handled ${handled[1]} of ${ORDERS}`);
  }, 180_000);
});
