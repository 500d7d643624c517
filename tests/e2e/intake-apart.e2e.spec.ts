import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queues } from '@am/messaging';
import { http, query, startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';

// The intake apart from the workers: an orders process started with SERVICE_CONSUMERS=off answers the API and
// consumes nothing, so what it accepts waits in order-processing until a consuming orders process takes it.
const env = testEnv();
let api: ServiceProcess;
let others: Record<string, ServiceProcess> = {};

beforeAll(async () => {
  ({ orders: api } = (await startServices(['orders'], { orders: { SERVICE_CONSUMERS: 'off' } })) as {
    orders: ServiceProcess;
  });
}, 120_000);

afterAll(async () => {
  await Promise.all([api, ...Object.values(others)].filter(Boolean).map((s) => s.stop()));
});

describe('intake apart from the workers (SERVICE_CONSUMERS=off)', () => {
  it('accepts orders and consumes none of them; a consuming orders process then handles every one', async () => {
    expect((await http('GET', `${api.url}/health`)).status).toBe(200);
    const user = await http<{ userId: string }>('POST', `${api.url}/users`, {
      email: `${randomUUID()}@example.com`,
      name: 'Intake Apart',
    });
    expect(user.status).toBe(201);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await http<{ orderId: string }>('POST', `${api.url}/orders`, {
        userId: user.body.userId,
        items: [{ sku: `IA-${randomUUID().slice(0, 8)}`, quantity: 1, unitPrice: 100 }],
      });
      expect(answer.status).toBe(202);
      ids.push(answer.body.orderId);
    }
    const stored = async () =>
      (
        await query<{ n: number }>(env, 'orders', 'SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[])', [
          ids,
        ])
      )[0]!.n;
    // Given time to consume, the API process stores nothing and counts nothing consumed.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await stored()).toBe(0);
    expect(await api.consumed(Queues.orderProcessing)).toBe(0);

    others = await startServices(['orders', 'inventory', 'payments']);
    await waitFor('every accepted order stored by the consuming process', async () => (await stored()) === ids.length, {
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    expect(await api.consumed(Queues.orderProcessing)).toBe(0);
    expect(await others.orders!.consumed(Queues.orderProcessing)).toBeGreaterThanOrEqual(ids.length);
  });
});
