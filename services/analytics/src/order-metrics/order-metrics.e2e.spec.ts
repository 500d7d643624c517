import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderCancelled, OrderConfirmed, OrderCreated, type OrderEvent } from '@am/contracts';
import { KafkaClient, Topics, recordFor } from '@am/messaging';
import { http, isolatedWorld, startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';
import type { OrderMetricsView } from './order-metrics.view.js';

// The exactly-once loop's output, read: analytics consumes order-events, produces per-minute deltas to
// order-metrics in Kafka transactions, and its view of order-metrics (read_committed) serves the sums. Topics and a
// database of this file's own, so the sums are exactly what it produced.
const env = testEnv();
let kafka: KafkaClient;
let analytics: ServiceProcess;

beforeAll(async () => {
  const world = await isolatedWorld('analytics', 'metrics-view');
  kafka = new KafkaClient({
    brokers: [env.kafkaBrokers],
    clientId: 'order-metrics.e2e',
    credentials: env.kafkaAdmin,
    prefix: world.kafkaPrefix,
  });
  await kafka.connectProducer();
  ({ analytics } = (await startServices(['analytics'], { analytics: world.env })) as { analytics: ServiceProcess });
}, 120_000);

afterAll(async () => {
  await analytics?.stop();
  await kafka?.close();
});

describe('GET /analytics/order-metrics (the reader of order-metrics)', () => {
  it('sums what the loop committed: every order event counted once', async () => {
    const events: OrderEvent[] = [];
    let revenue = 0;
    for (let i = 0; i < 60; i++) {
      const orderId = randomUUID();
      const origin = { correlationId: orderId };
      const total = 100 + i;
      events.push(
        OrderCreated.create(
          { orderId, userId: 'u', items: [{ sku: 'S', quantity: 1, unitPrice: total }], total },
          origin,
        ),
      );
      if (i % 3 === 0) events.push(OrderCancelled.create({ orderId, userId: 'u', total, reason: 'timeout' }, origin));
      else {
        events.push(OrderConfirmed.create({ orderId, userId: 'u', total }, origin));
        revenue += total;
      }
    }
    await kafka.send(events.map((e) => recordFor(Topics.orderEvents, e.data.orderId, e)));

    const view = await waitFor(
      'the view to show all 60 orders',
      async () => {
        const answer = await http<ReturnType<OrderMetricsView['snapshot']>>(
          'GET',
          `${analytics.url}/analytics/order-metrics`,
        );
        return answer.status === 200 && answer.body.total.created === 60 ? answer.body : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(view.total).toEqual({ created: 60, confirmed: 40, cancelled: 20, revenue });
    expect(view.minutes.length).toBeGreaterThanOrEqual(1);
    expect(view.minutes.every((m) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(m.minute))).toBe(true);
  });
});
