import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';
import type { AuditEntry } from '../audit-trail/audit-trail.controller.js';

// audit and orders as real processes: orders produces user.registered (RabbitMQ fanout, through the outbox) and
// order.created (Kafka, through the outbox); the audit service records both.
let services: Record<string, ServiceProcess>;
const url = (service: string, path: string) => `${services[service]!.url}${path}`;

beforeAll(async () => {
  services = await startServices(['audit', 'orders']);
});

afterAll(async () => {
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

async function trail(correlationId: string, type: string): Promise<AuditEntry[]> {
  return waitFor(`${type} in the audit trail of ${correlationId}`, async () => {
    const got = await http<{ correlationId: string; entries: AuditEntry[] }>(
      'GET',
      url('audit', `/audit?correlationId=${correlationId}`),
    );
    return got.body.entries.some((e) => e.type === type) ? got.body.entries : undefined;
  });
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
