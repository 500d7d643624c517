import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlaceOrder } from '@am/contracts';
import { AmqpClient, DEFAULT_EXCHANGE, Queues, RetryHeaders, deadLetterQueue } from '@am/messaging';
import { http, startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';
import type { AuditEntry } from '../audit-trail/audit-trail.controller.js';
import type { DeadLetterView } from '../inspect-dead-letters/dead-letter.view.js';
import type { ReplayAnswer } from './replay-dead-letter.controller.js';

// audit and orders as real processes. A valid order.place task is put straight onto order-processing-dlq, as if
// orders had given up on it during an outage; replaying it must make the order, once.
let services: Record<string, ServiceProcess>;
let admin: AmqpClient;
const url = (service: string, path: string) => `${services[service]!.url}${path}`;

beforeAll(async () => {
  services = await startServices(['audit', 'orders']);
  admin = new AmqpClient({ url: testEnv().adminAmqpUrl, connectionName: 'replay-dead-letter.e2e.spec' });
  await admin.connect();
});

afterAll(async () => {
  await admin?.close();
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

/** A stored dead letter: a valid order.place task for a real user, dead-lettered after three retries. */
async function deadLetteredOrder(): Promise<{ task: PlaceOrder; letter: DeadLetterView }> {
  const user = await http<{ userId: string }>('POST', url('orders', '/users'), {
    email: `${randomUUID()}@example.com`,
    name: 'Ann',
  });
  expect(user.status).toBe(201);
  const orderId = randomUUID();
  const task = PlaceOrder.create(
    {
      orderId,
      userId: user.body.userId,
      items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 1250 }],
      total: 2500,
      placedAt: new Date().toISOString(),
    },
    { correlationId: orderId },
  );
  const now = new Date().toISOString();
  await admin.publish(DEFAULT_EXCHANGE, deadLetterQueue(Queues.orderProcessing), task, {
    headers: {
      [RetryHeaders.retryCount]: 3,
      [RetryHeaders.error]: 'Error: orders database is down',
      [RetryHeaders.originalQueue]: Queues.orderProcessing,
      [RetryHeaders.firstFailureAt]: now,
      [RetryHeaders.lastFailureAt]: now,
    },
  });
  const letter = await waitFor('the dead letter to be stored', async () => {
    const list = await http<{ deadLetters: DeadLetterView[] }>(
      'GET',
      url('audit', '/dead-letters?queue=order-processing'),
    );
    return list.body.deadLetters.find((d) => d.messageId === task.messageId);
  });
  return { task, letter };
}

const orderCreatedEntries = async (orderId: string) =>
  (await http<{ entries: AuditEntry[] }>('GET', url('audit', `/audit?correlationId=${orderId}`))).body.entries.filter(
    (e) => e.type === 'order.created',
  );

/** Deliveries of order-processing that orders handled without error (a duplicate counts: it was handled). */
async function consumedByOrders(): Promise<number> {
  const text = await (await fetch(url('orders', '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith('messages_consumed_total{source="order-processing",'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('replaying a dead letter', () => {
  it('puts the original message back on its queue, and a second replay answers 409 with still one order', async () => {
    // Given a dead-lettered order.place that orders never stored
    const { task, letter } = await deadLetteredOrder();
    const orderId = task.data.orderId;
    expect((await http('GET', url('orders', `/orders/${orderId}`))).status).toBe(404);

    // When it is replayed
    const replay = await http<ReplayAnswer>('POST', url('audit', `/dead-letters/${letter.id}/replay`));

    // Then the broker has it back on order-processing, and the orders worker stores the order
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({
      id: letter.id,
      replayedTo: Queues.orderProcessing,
      messageId: task.messageId,
      replayCount: 1,
    });
    const order = await waitFor('the order to be stored', async () => {
      const got = await http<{ status: string; total: number }>('GET', url('orders', `/orders/${orderId}`));
      return got.status === 200 ? got.body : undefined;
    });
    expect(order).toMatchObject({ total: 2500 });

    // When it is replayed again
    const again = await http<{ message: string }>('POST', url('audit', `/dead-letters/${letter.id}/replay`));

    // Then the answer is 409, the dead letter shows one replay, and the order was created once
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/was replayed at/);
    const after = await http<DeadLetterView>('GET', url('audit', `/dead-letters/${letter.id}`));
    expect(after.body).toMatchObject({ replayCount: 1, replayedAt: replay.body.replayedAt });
    const created = await waitFor('order.created in the audit log', async () => {
      const entries = await orderCreatedEntries(orderId);
      return entries.length > 0 ? entries : undefined;
    });
    expect(created).toHaveLength(1);
  });

  it('has one effect even when the same message arrives twice (two replays racing each other)', async () => {
    // Given a dead letter replayed once, and the same bytes published again with the same message id
    const { task, letter } = await deadLetteredOrder();
    const before = await consumedByOrders();
    expect((await http('POST', url('audit', `/dead-letters/${letter.id}/replay`))).status).toBe(202);
    await admin.publish(DEFAULT_EXCHANGE, Queues.orderProcessing, task, { headers: { [RetryHeaders.retryCount]: 0 } });

    // Then orders handles both, its inbox turns the second into a no-op: one order.created
    await waitFor('orders to handle both deliveries', async () => (await consumedByOrders()) === before + 2);
    await waitFor(
      'order.created in the audit log',
      async () => (await orderCreatedEntries(task.data.orderId)).length > 0,
    );
    // Time for a second order.created to come through the outbox and Kafka, if there were one
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await orderCreatedEntries(task.data.orderId)).toHaveLength(1);
  });

  it('answers 404 for an unknown dead letter and 400 for an id that is not a number', async () => {
    expect((await http('POST', url('audit', '/dead-letters/999999999/replay'))).status).toBe(404);
    expect((await http('POST', url('audit', '/dead-letters/not-a-number/replay'))).status).toBe(400);
  });
});
