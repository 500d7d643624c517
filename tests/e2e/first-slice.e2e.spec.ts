import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlaceOrder } from '@am/contracts';
import { AmqpClient, DEFAULT_EXCHANGE, Queues } from '@am/messaging';
import { http, query, startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';

// The running services as real processes, over the real brokers, in this run's isolated vhost/topics/databases.
let services: Record<string, ServiceProcess>;
const url = (service: string, path: string) => `${services[service]!.url}${path}`;

interface Summary {
  usersRegistered: number;
  ordersCreated: number;
  ordersConfirmed: number;
  ordersCancelled: number;
  revenue: number;
}

beforeAll(async () => {
  services = await startServices(['orders', 'inventory', 'payments', 'email', 'analytics', 'audit']);
});

afterAll(async () => {
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

describe('the first slice through both brokers', () => {
  it('boots all six services with /health and /metrics', async () => {
    for (const service of Object.values(services)) {
      const health = await http<{ status: string; checks: Record<string, string> }>('GET', `${service.url}/health`);
      expect(health.status, service.service).toBe(200);
      expect(health.body.checks).toEqual({ postgres: 'up', rabbitmq: 'up', kafka: 'up', consumers: 'up' });
      const metrics = await fetch(`${service.url}/metrics`);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await metrics.text()).toContain(`process_cpu_user_seconds_total{service="${service.service}"}`);
    }
  });

  it('takes POST /orders through order-processing and order-events until analytics counts it', async () => {
    // Analytics reads order-events from offset 0: let it catch up with what earlier tests of this run produced.
    let last = '';
    const before = await waitFor(
      'analytics to settle',
      async () => {
        const summary = (await http<Summary>('GET', url('analytics', '/analytics/summary'))).body;
        const same = JSON.stringify(summary) === last;
        last = JSON.stringify(summary);
        return same ? summary : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000 },
    );
    const user = await http<{ userId: string }>('POST', url('orders', '/users'), {
      email: `${randomUUID()}@example.com`,
      name: 'Ann',
    });
    expect(user.status).toBe(201);
    const placed = await Promise.all(
      [1, 2, 3].map(() =>
        http<{ orderId: string; status: string }>('POST', url('orders', '/orders'), {
          userId: user.body.userId,
          items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 1250 }],
        }),
      ),
    );
    for (const answer of placed) {
      expect(answer.status).toBe(202);
      expect(answer.body).toEqual({ orderId: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'PENDING' });
    }
    const order = await waitFor('the worker to store the first order', async () => {
      const got = await http<{ status: string; total: number }>(
        'GET',
        url('orders', `/orders/${placed[0]!.body.orderId}`),
      );
      return got.status === 200 ? got.body : undefined;
    });
    // Stored by the worker; the saga may already have ended it (SKU-1 has no stock) by the time the poll sees it.
    expect(order).toMatchObject({ total: 2500, userId: user.body.userId });
    expect(['PENDING', 'CANCELLED']).toContain(order.status);
    const after = await waitFor(
      'analytics to count the three orders and the user',
      async () => {
        const summary = (await http<Summary>('GET', url('analytics', '/analytics/summary'))).body;
        return summary.ordersCreated === before.ordersCreated + 3 &&
          summary.usersRegistered === before.usersRegistered + 1
          ? summary
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(after.ordersCreated - before.ordersCreated).toBe(3);
    const metrics = await (await fetch(url('orders', '/metrics'))).text();
    expect(metrics).toMatch(/messages_consumed_total\{source="order-processing",service="orders"\} [1-9]/);
  });

  it('answers bad input with 400 naming every problem, and stores nothing', async () => {
    const bad = await http<{ message: string[] }>('POST', url('orders', '/orders'), {
      userId: 'not-a-uuid',
      items: [{ sku: 'SKU-1', quantity: 0, unitPrice: 100 }],
      coupon: 'FREE',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toEqual(
      expect.arrayContaining([
        expect.stringContaining('userId'),
        expect.stringContaining('items.0.quantity'),
        expect.stringContaining('"coupon"'),
      ]),
    );
    const unknownUser = await http('POST', url('orders', '/orders'), {
      userId: randomUUID(),
      items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }],
    });
    expect(unknownUser.status).toBe(404);
    // The same id once the user exists: a miss is not remembered, and a user this process never registered
    // (another instance did; here: a row written straight to the database) is looked up and accepted.
    const lateUserId = randomUUID();
    await query(testEnv(), 'orders', 'INSERT INTO users (id, email, name) VALUES ($1, $2, $3)', [
      lateUserId,
      `${lateUserId}@example.com`,
      'Late User',
    ]);
    const late = { userId: lateUserId, items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }] };
    expect((await http('POST', url('orders', '/orders'), { ...late, userId: randomUUID() })).status).toBe(404);
    expect((await http('POST', url('orders', '/orders'), late)).status).toBe(202);
    const notJson = await http('POST', url('orders', '/orders'), '{"userId":', { 'content-type': 'application/json' });
    expect(notJson.status).toBe(400);
  });
});

describe('a message whose handler keeps failing', () => {
  it("is retried three times, then dead-lettered with the handler's own error, and stored by audit", async () => {
    const orderId = randomUUID();
    const task = PlaceOrder.create(
      {
        orderId,
        userId: randomUUID(), // no such user: the orders table's foreign key refuses it on every attempt
        items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }],
        total: 100,
        placedAt: new Date().toISOString(),
      },
      { correlationId: orderId },
    );
    const client = new AmqpClient({ url: testEnv().adminAmqpUrl, connectionName: 'first-slice.e2e' });
    await client.connect();
    await client.publish(DEFAULT_EXCHANGE, Queues.orderProcessing, task);
    await client.close();
    const letter = await waitFor(
      'audit to store the dead letter',
      async () => {
        const list = await http<{ deadLetters: { messageId: string; reason: string; retryCount: number }[] }>(
          'GET',
          url('audit', '/dead-letters?queue=order-processing'),
        );
        return list.body.deadLetters.find((d) => d.messageId === task.messageId);
      },
      { timeoutMs: 30_000 },
    );
    expect(letter.retryCount).toBe(3);
    expect(letter.reason).toMatch(/foreign key constraint/);
  });
});
