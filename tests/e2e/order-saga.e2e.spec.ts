import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, operatorToken, startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';

// The order flow through the running orders, inventory and payments services, over the real brokers: the same
// scenarios for both variants, the orchestrated saga and the choreographed flow (docs/choreography.md), on one start
// of the services.
// Long enough that 200 concurrent sagas on a busy 2-core machine never time out; the timeout test waits it out.
const STEP_TIMEOUT_MS = 15_000;
// The choreographed order's deadline, for the whole flow (orders owns it): 200 concurrent orders end in a few seconds.
const FLOW_TIMEOUT_MS = 20_000;
const FLOWS = ['orchestrated', 'choreographed'] as const;
type Flow = (typeof FLOWS)[number];
let services: Record<string, ServiceProcess>;
const url = (service: string, path: string) => `${services[service]!.url}${path}`;

interface Order {
  orderId: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED';
  reason?: string;
  total: number;
  flow: Flow;
}

beforeAll(async () => {
  services = await startServices(['orders', 'inventory', 'payments'], {
    orders: {
      SAGA_STEP_TIMEOUT_MS: String(STEP_TIMEOUT_MS),
      ORDER_FLOW_TIMEOUT_MS: String(FLOW_TIMEOUT_MS),
      SAGA_TIMEOUT_CHECK_MS: '200',
    },
  });
});

afterAll(async () => {
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

/** A user with an open account holding `balance` cents, and a SKU of its own with `stock` items. */
async function customer(balance: number, stock: number) {
  const user = await http<{ userId: string }>('POST', url('orders', '/users'), {
    email: `${randomUUID()}@example.com`,
    name: 'Alice',
  });
  expect(user.status).toBe(201);
  const userId = user.body.userId;
  await waitFor('payments to open the account from user.registered', async () => {
    return (await http('GET', url('payments', `/accounts/${userId}`))).status === 200;
  });
  if (balance > 0) {
    const deposit = await http('POST', url('payments', `/accounts/${userId}/deposits`), { amount: balance });
    expect(deposit.status).toBeLessThan(300);
  }
  const sku = `SKU-${randomUUID().slice(0, 8)}`;
  expect((await http('PUT', url('inventory', `/stock/${sku}`), { quantity: stock })).status).toBe(200);
  return { userId, sku };
}

async function place(
  userId: string,
  sku: string,
  quantity: number,
  unitPrice = 1_000,
  headers = {},
  flow: Flow = 'orchestrated',
) {
  const answer = await http<{ orderId: string; status: string }>(
    'POST',
    url('orders', '/orders'),
    { userId, items: [{ sku, quantity, unitPrice }], ...(flow === 'orchestrated' ? {} : { flow }) },
    headers,
  );
  expect(answer.status).toBe(202);
  return answer.body.orderId;
}

async function settled(orderId: string, timeoutMs = 30_000): Promise<Order> {
  return waitFor(
    `order ${orderId} to settle`,
    async () => {
      const order = await http<Order>('GET', url('orders', `/orders/${orderId}`));
      return order.status === 200 && order.body.status !== 'PENDING' ? order.body : undefined;
    },
    { timeoutMs, intervalMs: 150 },
  );
}

const stock = async (sku: string) =>
  (await http<{ available: number; reserved: number }>('GET', url('inventory', `/stock/${sku}`))).body;
const balance = async (userId: string) =>
  (await http<{ balance: number }>('GET', url('payments', `/accounts/${userId}`))).body.balance;

describe.each(FLOWS)('order flow, %s', (flow) => {
  const placeIn = (userId: string, sku: string, quantity: number, unitPrice = 1_000) =>
    place(userId, sku, quantity, unitPrice, {}, flow);

  it('confirms an order: stock down, balance down, CONFIRMED', async () => {
    const { userId, sku } = await customer(10_000, 10);
    const order = await settled(await placeIn(userId, sku, 3));
    expect(order).toMatchObject({ status: 'CONFIRMED', total: 3_000, flow });
    expect(order.reason).toBeUndefined();
    expect(await stock(sku)).toMatchObject({ available: 7 });
    expect(await balance(userId)).toBe(7_000);
    // The saga board shows sagas; a choreographed order has none (docs/choreography.md).
    const board = await http<{ recent: { orderId: string }[] }>('GET', url('orders', '/sagas'), undefined, {
      authorization: `Bearer ${await operatorToken()}`,
    });
    expect(board.status).toBe(200);
    expect(board.body.recent.map((saga) => saga.orderId).includes(order.orderId)).toBe(flow === 'orchestrated');
  });

  it('cancels with out_of_stock when there is not enough stock, and leaves the balance alone', async () => {
    const { userId, sku } = await customer(10_000, 2);
    const order = await settled(await placeIn(userId, sku, 3));
    expect(order).toMatchObject({ status: 'CANCELLED', reason: 'out_of_stock' });
    expect(await stock(sku)).toMatchObject({ available: 2, reserved: 0 });
    expect(await balance(userId)).toBe(10_000);
  });

  it('cancels with payment_failed on insufficient funds, and releases the stock', async () => {
    const { userId, sku } = await customer(500, 5);
    const order = await settled(await placeIn(userId, sku, 2));
    expect(order).toMatchObject({ status: 'CANCELLED', reason: 'payment_failed' });
    await waitFor('the reservation to be released', async () => (await stock(sku)).available === 5);
    expect(await stock(sku)).toEqual({ sku, available: 5, reserved: 0 });
    expect(await balance(userId)).toBe(500);
  });

  it('confirms exactly as many of 200 concurrent orders as 100 items of stock allow', async () => {
    const { userId, sku } = await customer(1_000_000, 100);
    const ids = await Promise.all(Array.from({ length: 200 }, () => placeIn(userId, sku, 1, 100)));
    const orders = await Promise.all(ids.map((id) => settled(id, 60_000)));
    const confirmed = orders.filter((o) => o.status === 'CONFIRMED');
    const cancelled = orders.filter((o) => o.status === 'CANCELLED');
    expect(confirmed).toHaveLength(100);
    expect(cancelled).toHaveLength(100);
    expect(new Set(cancelled.map((o) => o.reason))).toEqual(new Set(['out_of_stock']));
    expect(await stock(sku)).toMatchObject({ available: 0 });
    expect(await balance(userId)).toBe(1_000_000 - 100 * 100);
  });
});

describe('order saga', () => {
  it('returns the same order for a repeated Idempotency-Key and creates nothing new', async () => {
    const { userId, sku } = await customer(10_000, 10);
    const key = { 'idempotency-key': randomUUID() };
    const first = await place(userId, sku, 1, 1_000, key);
    const second = await place(userId, sku, 1, 1_000, key);
    expect(second).toBe(first);
    await settled(first);
    const third = await http<{ orderId: string; status: string }>(
      'POST',
      url('orders', '/orders'),
      { userId, items: [{ sku, quantity: 1, unitPrice: 1_000 }] },
      key,
    );
    expect(third.body).toEqual({ orderId: first, status: 'CONFIRMED' });
    // Give a stray duplicate every chance to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await stock(sku)).toMatchObject({ available: 9 });
    expect(await balance(userId)).toBe(9_000);
    const reused = await http(
      'POST',
      url('orders', '/orders'),
      { userId, items: [{ sku, quantity: 2, unitPrice: 1_000 }] },
      key,
    );
    expect(reused.status).toBe(422);
  });

  it('rejects bad orders with a 4xx and a clear message, creating nothing', async () => {
    const { userId, sku } = await customer(0, 1);
    const cases: [unknown, number, RegExp][] = [
      [{ userId: randomUUID(), items: [{ sku, quantity: 1, unitPrice: 1 }] }, 404, /unknown user/],
      [{ userId, items: [] }, 400, /at least one item/],
      [{ userId, items: [{ sku, quantity: 0, unitPrice: 1 }] }, 400, /items\.0\.quantity/],
      [{ userId, items: [{ sku, quantity: 1, unitPrice: -5 }] }, 400, /items\.0\.unitPrice/],
      [{ userId, items: [{ sku, quantity: 1.5, unitPrice: 1 }] }, 400, /items\.0\.quantity/],
      [{ userId, items: [{ sku, quantity: 1, unitPrice: 1 }], discount: 10 }, 400, /discount/],
      [{ userId, items: [{ sku, quantity: 1, unitPrice: 1, colour: 'red' }] }, 400, /colour/],
      [{ userId, items: [{ sku, quantity: 1, unitPrice: 1 }], flow: 'improvised' }, 400, /flow/],
    ];
    for (const [body, status, message] of cases) {
      const answer = await http('POST', url('orders', '/orders'), body);
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(JSON.stringify(answer.body)).toMatch(message);
    }
    const huge = await http('POST', url('orders', '/orders'), {
      userId,
      items: [{ sku: 'x'.repeat(200_000), quantity: 1, unitPrice: 1 }],
    });
    expect(huge.status).toBe(413);
    expect(await stock(sku)).toEqual({ sku, available: 1, reserved: 0 });
  });

  it('cancels with timeout on both flows when payments does not answer, releases stock, and late replies change nothing', async () => {
    // One stop of payments for both variants: the saga's step deadline, and the deadline orders owns for the
    // choreographed order.
    const customers = await Promise.all(FLOWS.map(() => customer(10_000, 5)));
    await services.payments!.stop();
    const ids = await Promise.all(
      FLOWS.map((flow, i) => place(customers[i]!.userId, customers[i]!.sku, 2, 1_000, {}, flow)),
    );
    for (const order of await Promise.all(ids.map((id) => settled(id, FLOW_TIMEOUT_MS + 20_000)))) {
      expect(order).toMatchObject({ status: 'CANCELLED', reason: 'timeout' });
    }
    for (const { sku } of customers) {
      await waitFor('the reservation to be released', async () => (await stock(sku)).available === 5);
    }

    // Payments comes back and works through what it missed: the saga's payment.process and payment.refund, the
    // flow's inventory.reserved and order.timed-out (it pays, then refunds).
    await services.payments!.start();
    const env = testEnv();
    const connection = await amqp.connect(env.adminAmqpUrl);
    const channel = await connection.createChannel();
    await waitFor('payments to drain its queues', async () => {
      let waiting = 0;
      for (const queue of ['payment.process', 'payment.refund', 'payments-order-flow']) {
        waiting += (await channel.checkQueue(queue)).messageCount;
      }
      const balances = await Promise.all(customers.map(({ userId }) => balance(userId)));
      return waiting === 0 && balances.every((b) => b === 10_000);
    });
    await connection.close();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const [i, orderId] of ids.entries()) {
      const { userId, sku } = customers[i]!;
      expect(await settled(orderId)).toMatchObject({ status: 'CANCELLED', reason: 'timeout', flow: FLOWS[i] });
      expect(await stock(sku)).toEqual({ sku, available: 5, reserved: 0 });
      expect(await balance(userId)).toBe(10_000);
    }
  }, 120_000);
});
