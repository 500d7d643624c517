import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startServices, waitFor, type ServiceProcess } from '@am/testing';

// POST /orders/sync, the synchronous baseline of the load-leveling experiment, through real orders, inventory
// and payments processes: orders calls the other two over HTTP and answers once the order is decided.
let services: Record<string, ServiceProcess>;
const url = (service: string, path: string) => `${services[service]!.url}${path}`;

interface Order {
  orderId: string;
  status: string;
  reason?: string;
  total: number;
}

beforeAll(async () => {
  const downstream = await startServices(['inventory', 'payments']);
  const orders = await startServices(['orders'], {
    orders: { INVENTORY_URL: downstream.inventory!.url, PAYMENTS_URL: downstream.payments!.url },
  });
  services = { ...downstream, ...orders };
});

afterAll(async () => {
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

/** A user whose account holds `balance` cents, and a SKU of its own with `stock` items. */
async function customer(balance: number, stock: number) {
  const user = await http<{ userId: string }>('POST', url('orders', '/users'), {
    email: `${randomUUID()}@example.com`,
    name: 'Sam',
  });
  const userId = user.body.userId;
  await waitFor('payments to open the account', async () => {
    return (await http('GET', url('payments', `/accounts/${userId}`))).status === 200;
  });
  if (balance > 0) await http('POST', url('payments', `/accounts/${userId}/deposits`), { amount: balance });
  const sku = `SYNC-${randomUUID().slice(0, 8)}`;
  await http('PUT', url('inventory', `/stock/${sku}`), { quantity: stock });
  return { userId, sku };
}

const stockOf = async (sku: string) => (await http('GET', url('inventory', `/stock/${sku}`))).body;
const balanceOf = async (userId: string) =>
  (await http<{ balance: number }>('GET', url('payments', `/accounts/${userId}`))).body.balance;

describe('POST /orders/sync', () => {
  it('reserves, pays and answers 201 with the order CONFIRMED, stored like any other order', async () => {
    const { userId, sku } = await customer(1_000, 5);
    const placed = await http<Order>('POST', url('orders', '/orders/sync'), {
      userId,
      items: [{ sku, quantity: 2, unitPrice: 150 }],
    });
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ userId, status: 'CONFIRMED', total: 300 });
    expect(await stockOf(sku)).toEqual({ sku, available: 3, reserved: 2 });
    expect(await balanceOf(userId)).toBe(700);
    const stored = await http<Order>('GET', url('orders', `/orders/${placed.body.orderId}`));
    expect(stored.body).toMatchObject({ status: 'CONFIRMED', total: 300 });
  });

  it('answers 409 with the order CANCELLED (payment_failed) and gives the stock back when payment is refused', async () => {
    const { userId, sku } = await customer(100, 5);
    const placed = await http<Order>('POST', url('orders', '/orders/sync'), {
      userId,
      items: [{ sku, quantity: 1, unitPrice: 500 }],
    });
    expect(placed.status).toBe(409);
    expect(placed.body).toMatchObject({ status: 'CANCELLED', reason: 'payment_failed', total: 500 });
    expect(await stockOf(sku)).toEqual({ sku, available: 5, reserved: 0 });
    expect(await balanceOf(userId)).toBe(100);
    const stored = await http<Order>('GET', url('orders', `/orders/${placed.body.orderId}`));
    expect(stored.body).toMatchObject({ status: 'CANCELLED', reason: 'payment_failed' });
  });

  it('answers 409 out_of_stock without touching the account, and repeats the answer for a repeated key', async () => {
    const { userId, sku } = await customer(1_000, 1);
    const body = { userId, items: [{ sku, quantity: 2, unitPrice: 100 }] };
    const headers = { 'idempotency-key': randomUUID() };
    const first = await http<Order>('POST', url('orders', '/orders/sync'), body, headers);
    expect(first.status).toBe(409);
    expect(first.body).toMatchObject({ status: 'CANCELLED', reason: 'out_of_stock' });
    const again = await http<Order>('POST', url('orders', '/orders/sync'), body, headers);
    expect(again.status).toBe(409);
    expect(again.body.orderId).toBe(first.body.orderId);
    expect(await balanceOf(userId)).toBe(1_000);
    expect(await stockOf(sku)).toEqual({ sku, available: 1, reserved: 0 });
  });

  it('rejects a bad request with 400 and an unknown user with 404, like POST /orders', async () => {
    expect((await http('POST', url('orders', '/orders/sync'), { userId: 'x', items: [] })).status).toBe(400);
    const unknown = { userId: randomUUID(), items: [{ sku: 'A', quantity: 1, unitPrice: 1 }] };
    expect((await http('POST', url('orders', '/orders/sync'), unknown)).status).toBe(404);
  });
});
