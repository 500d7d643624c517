import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';
import type { AuditEntry } from '../audit-trail/audit-trail.controller.js';

// audit, orders and the saga's participants as real processes: orders produces user.registered (RabbitMQ fanout,
// through the outbox) and the order events (Kafka, through the outbox), the saga's commands and replies cross
// RabbitMQ; the audit service records all of them, the saga's through its wire-tap queue audit-saga.
let services: Record<string, ServiceProcess>;
const url = (service: string, path: string) => `${services[service]!.url}${path}`;

beforeAll(async () => {
  services = await startServices(['audit', 'orders', 'inventory', 'payments']);
});

afterAll(async () => {
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

/** The audit trail of `correlationId` (operator token), once it holds an entry of each of `types`. */
async function trail(correlationId: string, ...types: string[]): Promise<AuditEntry[]> {
  return waitFor(`${types.join(', ')} in the audit trail of ${correlationId}`, async () => {
    const got = await http<{ correlationId: string; entries: AuditEntry[] }>(
      'GET',
      url('audit', `/audit?correlationId=${correlationId}`),
    );
    return types.every((type) => got.body.entries.some((e) => e.type === type)) ? got.body.entries : undefined;
  });
}

/** A user with an open account holding `balance` cents, and a SKU of its own with `stock` items. */
async function customer(balance: number, stock: number): Promise<{ userId: string; sku: string }> {
  const user = await http<{ userId: string }>('POST', url('orders', '/users'), {
    email: `${randomUUID()}@example.com`,
    name: 'Ann',
  });
  expect(user.status).toBe(201);
  const userId = user.body.userId;
  await waitFor('payments to open the account from user.registered', async () => {
    return (await http('GET', url('payments', `/accounts/${userId}`))).status === 200;
  });
  const deposit = await http('POST', url('payments', `/accounts/${userId}/deposits`), { amount: balance });
  expect(deposit.status).toBeLessThan(300);
  const sku = `SKU-${randomUUID().slice(0, 8)}`;
  expect((await http('PUT', url('inventory', `/stock/${sku}`), { quantity: stock })).status).toBe(200);
  return { userId, sku };
}

/** Places an order of `quantity` items at 10.00 and returns its id, which is also its correlation id. */
async function place(userId: string, sku: string, quantity: number, flow?: 'choreographed'): Promise<string> {
  const order = await http<{ orderId: string }>('POST', url('orders', '/orders'), {
    userId,
    items: [{ sku, quantity, unitPrice: 1_000 }],
    ...(flow ? { flow } : {}),
  });
  expect(order.status).toBe(202);
  return order.body.orderId;
}

/**
 * The types of a trail in its order, where entries of the same millisecond are taken in `expected`'s order: the
 * messages of one decision are created one after the other in one transaction (`order.created` and
 * `inventory.reserve`; `inventory.release` and `order.cancelled`), and for a tie the trail goes by arrival, which
 * Kafka and RabbitMQ do not agree on.
 */
function story(entries: AuditEntry[], expected: string[]): string[] {
  const rank = (e: AuditEntry) => expected.indexOf(e.type);
  return [...entries].sort((a, b) => a.occurredAt.localeCompare(b.occurredAt) || rank(a) - rank(b)).map((e) => e.type);
}

/**
 * Every entry of the trail but the first two is caused by an entry before it, and those two (`order.created` and
 * the saga's first command) by the same `order.place` task, which is not audited.
 */
function expectCausalChain(entries: AuditEntry[]): void {
  const [created, first, ...rest] = entries;
  expect(first!.causationId).toBe(created!.causationId);
  for (const entry of rest) {
    const cause = entries.findIndex((e) => e.messageId === entry.causationId);
    expect(cause, `the cause of ${entry.type}`).toBeGreaterThanOrEqual(0);
    expect(cause, `the cause of ${entry.type}`).toBeLessThan(entries.indexOf(entry));
  }
}

describe('the audit log', () => {
  it("records a user's registration under the user id, and an order's creation under the order id", async () => {
    // Given a user registered and an order placed through orders
    const user = await http<{ userId: string }>('POST', url('orders', '/users'), {
      email: `${randomUUID()}@example.com`,
      name: 'Ann',
    });
    expect(user.status).toBe(201);
    const userId = user.body.userId;
    const order = await http<{ orderId: string }>('POST', url('orders', '/orders'), {
      userId,
      items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 990 }],
    });
    expect(order.status).toBe(202);
    const orderId = order.body.orderId;

    // Then the user's trail holds user.registered, from the audit-log queue
    const userTrail = await trail(userId, 'user.registered');
    expect(userTrail).toEqual([
      expect.objectContaining({
        source: 'audit-log',
        type: 'user.registered',
        version: 2,
        correlationId: userId,
        causationId: null,
        data: expect.objectContaining({ userId, firstName: 'Ann', lastName: '', locale: 'en' }),
      }),
    ]);

    // And the order's trail starts with order.created, from the order-events topic, caused by the order.place task
    const orderTrail = await trail(orderId, 'order.created');
    expect(orderTrail[0]).toMatchObject({
      source: 'order-events/audit',
      type: 'order.created',
      correlationId: orderId,
      causationId: expect.any(String),
      data: { orderId, userId, total: 990 },
    });
    const positions = orderTrail.map((e) => e.occurredAt);
    expect(positions).toEqual([...positions].sort());
  });

  it("records a compensated order's saga: each command and reply between order.created and order.cancelled", async () => {
    // Given a customer whose balance cannot pay for the order
    const { userId, sku } = await customer(500, 5);

    // When the order is placed: stock reserved, payment refused, reservation released, order cancelled
    const orderId = await place(userId, sku, 2);
    const expected = [
      'order.created',
      'inventory.reserve',
      'inventory.reserved',
      'payment.process',
      'payment.failed',
      'inventory.release',
      'order.cancelled',
    ];
    const entries = await trail(orderId, ...expected);

    // Then the trail tells the saga step by step (the release has no reply: the saga waits for no compensation)
    expect(entries).toHaveLength(expected.length);
    expect(story(entries, expected)).toEqual(expected);
    const byType = Object.fromEntries(entries.map((e) => [e.type, e]));
    for (const type of expected.slice(1, -1)) {
      expect(byType[type], type).toMatchObject({ source: 'audit-saga', version: 1, correlationId: orderId });
    }
    expect(byType['payment.failed']!.data).toMatchObject({ orderId, reason: 'insufficient_funds' });
    expect(byType['inventory.release']!.data).toMatchObject({ orderId });

    // And the cancellation's cause is an entry of the same trail: the payment's refusal
    const cancelled = byType['order.cancelled']!;
    expect(cancelled).toMatchObject({ source: 'order-events/audit', data: { reason: 'payment_failed' } });
    expect(entries.map((e) => e.messageId)).toContain(cancelled.causationId);
    expect(cancelled.causationId).toBe(byType['payment.failed']!.messageId);
    expect(byType['inventory.release']!.causationId).toBe(byType['payment.failed']!.messageId);
    expectCausalChain(story(entries, expected).map((type) => byType[type]!));
  });

  it("records a confirmed order's saga: reserve, payment, each with its reply, then order.confirmed", async () => {
    const { userId, sku } = await customer(10_000, 5);
    const orderId = await place(userId, sku, 2);
    const expected = [
      'order.created',
      'inventory.reserve',
      'inventory.reserved',
      'payment.process',
      'payment.completed',
      'order.confirmed',
    ];
    const entries = await trail(orderId, ...expected);

    expect(entries).toHaveLength(expected.length);
    expect(story(entries, expected)).toEqual(expected);
    const byType = Object.fromEntries(entries.map((e) => [e.type, e]));
    expect(byType['payment.completed']).toMatchObject({ source: 'audit-saga', data: { orderId, amount: 2_000 } });
    expect(byType['order.confirmed']!.causationId).toBe(byType['payment.completed']!.messageId);
    expectCausalChain(story(entries, expected).map((type) => byType[type]!));
  });

  it("records a choreographed order's events from the order-flow wire-tap: no command, each event caused by the one before", async () => {
    // Given a customer whose balance cannot pay, and an order placed on the choreographed flow
    const { userId, sku } = await customer(500, 5);
    const orderId = await place(userId, sku, 2, 'choreographed');
    const expected = ['order.created', 'order.placed', 'inventory.reserved', 'payment.failed', 'order.cancelled'];
    const entries = await trail(orderId, ...expected);

    // Then the trail holds the events each service announced, and no command: nobody asked anybody
    expect(entries).toHaveLength(expected.length);
    expect(story(entries, expected)).toEqual(expected);
    const byType = Object.fromEntries(entries.map((e) => [e.type, e]));
    for (const type of expected.slice(1, -1)) {
      expect(byType[type], type).toMatchObject({ source: 'audit-order-flow', correlationId: orderId });
    }
    // The reservation carries who pays and how much to payments; the cancellation's cause is the payment's failure
    expect(byType['inventory.reserved']!.data).toMatchObject({ orderId, userId, amount: 2_000 });
    expect(byType['order.cancelled']!.causationId).toBe(byType['payment.failed']!.messageId);
    expectCausalChain(story(entries, expected).map((type) => byType[type]!));
    // And inventory released the stock on payment.failed, without a command
    await waitFor('the stock to be released', async () => {
      const stock = await http<{ available: number }>('GET', url('inventory', `/stock/${sku}`));
      return stock.body.available === 5;
    });
  });

  it('is append-only in the database itself', async () => {
    const db = new pg.Client({ connectionString: testEnv().databaseUrl('audit') });
    await db.connect();
    try {
      await expect(db.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
      await expect(db.query(`UPDATE audit_log SET type = 'x'`)).rejects.toThrow(/append-only/);
      await expect(db.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    } finally {
      await db.end();
    }
  });

  it('answers 400 without a correlation id', async () => {
    const missing = await http<{ message: string[] }>('GET', url('audit', '/audit'));
    expect(missing.status).toBe(400);
    expect(missing.body.message.join()).toMatch(/correlationId/);
    expect((await http('GET', url('audit', '/audit?correlationId='))).status).toBe(400);
    expect((await http('GET', url('audit', '/audit?correlationId=a&correlationId=b'))).status).toBe(400);
  });
});
