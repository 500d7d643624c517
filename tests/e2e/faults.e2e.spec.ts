import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queues } from '@am/messaging';
import { ServiceProcess, http, serviceEnv, startServices, testEnv, waitFor } from '@am/testing';

// The operator's runtime fault switches (libs/messaging/src/faults) on real services: each one does what it says to
// the real consumers and relay, ends when switched off, and none can be switched on where faults are not allowed.
const STEP_TIMEOUT_MS = 15_000;
const env = testEnv();
let services: Record<string, ServiceProcess>;
let userId: string;
const sku = `FAULT-${randomUUID().slice(0, 8)}`;
const url = (service: string, path: string) => `${services[service]!.url}${path}`;
const allowed = { FAULTS_ALLOWED: '1' };

beforeAll(async () => {
  // Orders without faults allowed (the refusal below); inventory and payments with them.
  services = await startServices(['orders', 'inventory', 'payments'], {
    orders: { SAGA_STEP_TIMEOUT_MS: String(STEP_TIMEOUT_MS) },
    inventory: allowed,
    payments: allowed,
  });
  const user = await http<{ userId: string }>('POST', url('orders', '/users'), {
    email: `${randomUUID()}@example.com`,
    name: 'Fault Tester',
  });
  userId = user.body.userId;
  await waitFor('the account', async () => (await http('GET', url('payments', `/accounts/${userId}`))).status === 200);
  await http('POST', url('payments', `/accounts/${userId}/deposits`), { amount: 1_000_000 });
  await http('PUT', url('inventory', `/stock/${sku}`), { quantity: 1_000 });
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

async function order(): Promise<string> {
  const placed = await http<{ orderId: string }>('POST', url('orders', '/orders'), {
    userId,
    items: [{ sku, quantity: 1, unitPrice: 100 }],
  });
  expect(placed.status).toBe(202);
  return placed.body.orderId;
}

async function outcome(orderId: string, timeoutMs = 30_000): Promise<string> {
  return waitFor(
    `order ${orderId} to end`,
    async () => {
      const got = await http<{ status: string; reason?: string }>('GET', url('orders', `/orders/${orderId}`));
      // 404 until the orders worker has stored it.
      if (got.status !== 200 || got.body.status === 'PENDING') return undefined;
      return `${got.body.status}${got.body.reason ? ` ${got.body.reason}` : ''}`;
    },
    { timeoutMs },
  );
}

async function fault(service: string, body: object): Promise<string> {
  const on = await http<{ id: string }>('POST', url(service, '/faults'), body);
  expect(on.status, JSON.stringify(on.body)).toBe(201);
  return on.body.id;
}

async function metric(service: string, name: string, source: string): Promise<number> {
  const text = await (await fetch(url(service, '/metrics'))).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(`source="${source}"`))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('fault switches', () => {
  it('are refused where faults are not allowed (403 with the reason), and refuse a source the service does not consume (400)', async () => {
    const refused = await http<{ reason?: string; message?: string }>('POST', url('orders', '/faults'), {
      kind: 'pause-relay',
    });
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.body)).toContain('FAULTS_ALLOWED=1');
    const listed = await http<{ allowed: boolean; faults: unknown[] }>('GET', url('orders', '/faults'));
    expect(listed.body).toMatchObject({ allowed: false, faults: [] });
    const wrong = await http('POST', url('payments', '/faults'), {
      kind: 'slow-consumer',
      source: Queues.orderProcessing,
      delayMs: 10,
    });
    expect(wrong.status).toBe(400);
    expect((await http('DELETE', url('payments', `/faults/${randomUUID()}`))).status).toBe(404);
  });

  it('fail-consumer: every payment fails, is retried and dead-lettered, and the saga cancels at its deadline; off, orders confirm again', async () => {
    const retriedBefore = await metric('payments', 'messages_retried_total', Queues.paymentProcess);
    const deadBefore = await metric('payments', 'messages_dead_lettered_total', Queues.paymentProcess);
    const id = await fault('payments', { kind: 'fail-consumer', source: Queues.paymentProcess, fraction: 1 });
    const listed = await http<{ faults: { id: string; by: string }[] }>('GET', url('payments', '/faults'));
    expect(listed.body.faults).toEqual([expect.objectContaining({ id, by: 'tests' })]);
    const failing = await order();
    expect(await outcome(failing)).toBe('CANCELLED timeout');
    expect(await metric('payments', 'messages_retried_total', Queues.paymentProcess)).toBeGreaterThan(retriedBefore);
    expect(await metric('payments', 'messages_dead_lettered_total', Queues.paymentProcess)).toBe(deadBefore + 1);
    expect((await http('DELETE', url('payments', `/faults/${id}`))).status).toBe(204);
    expect(await outcome(await order())).toBe('CONFIRMED');
  }, 90_000);

  it('pause-relay: the replies wait in the outbox and the order stays pending; off, it goes through', async () => {
    const id = await fault('payments', { kind: 'pause-relay', durationS: 60 });
    const paused = await order();
    await waitFor('the reply to wait in the outbox', async () => (await metricGauge('payments')) > 0);
    const got = await http<{ status: string }>('GET', url('orders', `/orders/${paused}`));
    expect(got.body.status).toBe('PENDING');
    expect((await http('DELETE', url('payments', `/faults/${id}`))).status).toBe(204);
    expect(await outcome(paused)).toBe('CONFIRMED');
  }, 60_000);

  it('at-most-once: a consumer killed while it holds a message loses it; at-least-once, the message comes back', async () => {
    // Slow inventory's reservations so that the kill comes while it holds one; then kill it (SIGKILL) and restart.
    const killDuringReservation = async (atMostOnce: boolean): Promise<string> => {
      await fault('inventory', { kind: 'slow-consumer', source: Queues.inventoryReserve, delayMs: 2_000 });
      if (atMostOnce) await fault('inventory', { kind: 'at-most-once', source: Queues.inventoryReserve });
      const held = await order();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const inventory = services.inventory!;
      await inventory.stop('SIGKILL');
      // The faults lived in the killed process: the new one starts without them.
      services.inventory = await new ServiceProcess(
        'inventory',
        inventory.port,
        serviceEnv('inventory', env, allowed),
      ).start();
      return outcome(held, 40_000);
    };
    expect(await killDuringReservation(false)).toBe('CONFIRMED');
    expect(await killDuringReservation(true)).toBe('CANCELLED timeout');
  }, 120_000);
});

async function metricGauge(service: string): Promise<number> {
  const text = await (await fetch(url(service, '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith('outbox_unsent_messages'));
  return Number(line?.split(' ').at(-1) ?? 0);
}
