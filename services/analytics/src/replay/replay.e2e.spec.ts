import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderCancelled, OrderConfirmed, OrderCreated, type OrderEvent } from '@am/contracts';
import { KafkaClient, Topics, recordFor } from '@am/messaging';
import {
  http,
  isolatedWorld,
  serviceEnv,
  startServices,
  testEnv,
  waitFor,
  type IsolatedWorld,
  type ServiceProcess,
} from '@am/testing';

// Replay: drop the analytics read model and rebuild it from offset 0 of order-events, while events keep coming.
const env = testEnv();
let world: IsolatedWorld;
let kafka: KafkaClient;
const replayScript = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../dist/replay/replay-order-stats.js',
);
let analytics: ServiceProcess;

interface Row {
  order_id: string;
  user_id: string;
  total: string;
  status: string;
}

/** Events for `count` orders: every order created, two thirds of them then confirmed or cancelled. */
function orderStories(count: number): { events: OrderEvent[]; expected: Map<string, string> } {
  const events: OrderEvent[] = [];
  const expected = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const orderId = randomUUID();
    const origin = { correlationId: orderId };
    events.push(
      OrderCreated.create(
        { orderId, userId: `user-${i % 7}`, items: [{ sku: 'S', quantity: 1, unitPrice: 100 + i }], total: 100 + i },
        origin,
      ),
    );
    expected.set(orderId, 'CREATED');
    if (i % 3 === 1) {
      events.push(OrderConfirmed.create({ orderId, userId: `user-${i % 7}`, total: 100 + i }, origin));
      expected.set(orderId, 'CONFIRMED');
    } else if (i % 3 === 2) {
      events.push(
        OrderCancelled.create({ orderId, userId: `user-${i % 7}`, total: 100 + i, reason: 'out_of_stock' }, origin),
      );
      expected.set(orderId, 'CANCELLED');
    }
  }
  return { events, expected };
}

async function produce(events: OrderEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    await kafka.send(events.slice(i, i + 500).map((e) => recordFor(Topics.orderEvents, e.data.orderId, e)));
  }
}

async function readModel(): Promise<Map<string, string>> {
  const client = new pg.Client({ connectionString: world.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<Row>('SELECT order_id, user_id, total, status FROM order_stats');
    return new Map(rows.map((r) => [r.order_id, r.status]));
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  // Topics and a database of its own: the test compares the read model with exactly the events it produced.
  world = await isolatedWorld('analytics', 'replay');
  kafka = new KafkaClient({
    brokers: [env.kafkaBrokers],
    clientId: 'replay.e2e',
    credentials: env.kafkaAdmin,
    prefix: world.kafkaPrefix,
  });
  await kafka.connectProducer();
  ({ analytics } = (await startServices(['analytics'], { analytics: world.env })) as { analytics: ServiceProcess });
});

afterAll(async () => {
  await analytics?.stop();
  await kafka?.close();
});

describe('analytics replay from offset 0', () => {
  it('rebuilds a read model equal to the live one, also with events arriving during the rebuild', async () => {
    const before = orderStories(3_000);
    await produce(before.events);
    await waitFor('the live consumer to catch up', async () => (await readModel()).size === before.expected.size, {
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    const live = await readModel();
    expect(live).toEqual(before.expected);

    // Spoil the live table, then rebuild while more events arrive.
    const client = new pg.Client({ connectionString: world.databaseUrl });
    await client.connect();
    await client.query(`UPDATE order_stats SET status = 'CREATED'`);
    await client.end();
    const during = orderStories(500);
    const [replay] = await Promise.all([
      promisify(execFile)(process.execPath, [replayScript], {
        env: { ...process.env, ...serviceEnv('analytics'), ...world.env },
        timeout: 120_000,
      }),
      produce(during.events),
    ]);
    const summary = JSON.parse(replay.stdout.trim().split('\n').at(-1)!) as { events: number; eventsPerSecond: number };
    console.log(`replay: ${summary.events} events at ${Math.round(summary.eventsPerSecond)} events/s`);
    expect(replay.stderr).toMatch(/replay: done, \d+ events/);
    expect(summary.events).toBeGreaterThanOrEqual(before.events.length);

    const all = new Map([...before.expected, ...during.expected]);
    await waitFor('the rebuilt model to hold every order', async () => (await readModel()).size === all.size, {
      timeoutMs: 30_000,
    });
    expect(await readModel()).toEqual(all);
    const summaryAnswer = await http<{ ordersCreated: number }>('GET', `${analytics.url}/analytics/summary`);
    expect(summaryAnswer.body.ordersCreated).toBe(all.size);
  });
});
