import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqp from 'amqplib';
import { OrderCreated } from '@am/contracts';
import { KafkaClient, Queues, Topics, recordFor } from '@am/messaging';
import {
  ServiceProcess,
  freePort,
  http,
  isolatedWorld,
  newRunId,
  provisionWorld,
  serviceEnv,
  startServices,
  testEnv,
  tokenFor,
  waitFor,
  type ProvisionedWorld,
} from '@am/testing';

// The fault buttons that act on consumers and on what they receive, against the real brokers: `stop-consumers`
// cancels RabbitMQ consumers (their queue keeps everything) and takes Kafka members out of their group (the lag grows),
// and undone, everything is handled exactly once; a poison message sent by its publisher goes to the dead letter queue
// (or topic) of each consumer with its reason, and the messages around it are not affected. The file runs in a world of
// its own (vhost, topics, databases): its poison messages are never read by the run's other files.
const env = testEnv(newRunId());
let world: ProvisionedWorld;
const allowed = { FAULTS_ALLOWED: '1' };
let services: Record<string, ServiceProcess>;
let analytics: ServiceProcess;
let kafka: KafkaClient;
let userId: string;
const sku = `STOP-${randomUUID().slice(0, 8)}`;
const url = (service: string, path: string) => `${services[service]!.url}${path}`;

beforeAll(async () => {
  world = await provisionWorld(env);
  services = await startServices(
    ['orders', 'inventory', 'payments', 'audit'],
    { orders: allowed, inventory: allowed, payments: allowed, audit: allowed },
    env,
  );
  // Analytics in a Kafka world of its own: the test counts exactly the records it produced there.
  const analyticsWorld = await isolatedWorld('analytics', 'stop-consumers', env);
  analytics = await new ServiceProcess(
    'analytics',
    await freePort(),
    serviceEnv('analytics', env, { ...analyticsWorld.env, ...allowed }),
  ).start();
  kafka = new KafkaClient({
    brokers: [env.kafkaBrokers],
    clientId: 'fault-buttons.e2e',
    credentials: env.kafkaAdmin,
    prefix: analyticsWorld.kafkaPrefix,
  });
  await kafka.connectProducer();
  const user = await http<{ userId: string }>('POST', url('orders', '/users'), {
    email: `${randomUUID()}@example.com`,
    name: 'Stop Tester',
  });
  userId = user.body.userId;
  await waitFor('the account', async () => (await http('GET', url('payments', `/accounts/${userId}`))).status === 200);
  await http('POST', url('payments', `/accounts/${userId}/deposits`), { amount: 1_000_000 });
  await http('PUT', url('inventory', `/stock/${sku}`), { quantity: 1_000 });
}, 120_000);

afterAll(async () => {
  await Promise.all([analytics, ...Object.values(services ?? {})].filter(Boolean).map((s) => s.stop()));
  await kafka?.close();
  await world?.teardown();
});

async function order(): Promise<string> {
  const placed = await http<{ orderId: string }>('POST', url('orders', '/orders'), {
    userId,
    items: [{ sku, quantity: 1, unitPrice: 100 }],
  });
  expect(placed.status).toBe(202);
  return placed.body.orderId;
}

const status = async (orderId: string) => {
  const got = await http<{ status: string }>('GET', url('orders', `/orders/${orderId}`));
  return got.status === 404 ? 'not stored yet' : got.body.status;
};

/** The broker's own count of a queue's messages and consumers, read as the run's administrator. */
async function queue(name: string): Promise<{ messages: number; consumers: number }> {
  const connection = await amqp.connect(env.adminAmqpUrl);
  try {
    const channel = await connection.createChannel();
    const ok = await channel.checkQueue(name);
    return { messages: ok.messageCount, consumers: ok.consumerCount };
  } finally {
    await connection.close();
  }
}

async function metricLines(service: ServiceProcess, name: string): Promise<string[]> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`));
}

const lagOf = async (topic: string) =>
  (await metricLines(analytics, 'consumer_lag_messages'))
    .filter((l) => l.includes(`topic="${topic}"`) && l.includes('group="analytics"'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);

const counted = async () =>
  (await http<{ ordersCreated: number }>('GET', `${analytics.url}/analytics/summary`)).body.ordersCreated;

describe('stop-consumers', () => {
  it('on order-processing: the orders wait in the queue, /health stays up and says who stopped it; undone, all confirm', async () => {
    const on = await http<{ id: string; until: string }>('POST', url('orders', '/faults'), {
      kind: 'stop-consumers',
      source: Queues.orderProcessing,
      durationS: 120,
    });
    expect(on.status, JSON.stringify(on.body)).toBe(201);
    await waitFor('the consumer to be cancelled', async () => (await queue(Queues.orderProcessing)).consumers === 0);
    const waiting = await Promise.all(Array.from({ length: 5 }, () => order()));
    await waitFor('the queue to hold the five', async () => (await queue(Queues.orderProcessing)).messages === 5);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const id of waiting) expect(await status(id)).toBe('not stored yet');
    expect((await queue(Queues.orderProcessing)).messages).toBe(5);
    // The saga's other consumer of orders still runs: only the one named is stopped.
    expect((await queue(Queues.sagaReplies)).consumers).toBe(1);
    const health = await http<{ status: string; details: { consumers: unknown } }>('GET', url('orders', '/health'));
    expect(health.status).toBe(200);
    expect(health.body.details.consumers).toMatchObject({
      stoppedByOperator: [{ source: Queues.orderProcessing, by: 'tests', until: on.body.until }],
    });
    expect(await metricLines(services.orders!, 'faults_active')).toEqual([
      expect.stringMatching(/kind="stop-consumers",source="order-processing",by="tests".* 1$/),
    ]);

    expect((await http('DELETE', url('orders', `/faults/${on.body.id}`))).status).toBe(204);
    for (const id of waiting) {
      await waitFor(`order ${id} to confirm`, async () => (await status(id)) === 'CONFIRMED', { timeoutMs: 30_000 });
    }
    expect(await queue(Queues.orderProcessing)).toEqual({ messages: 0, consumers: 1 });
    expect(await metricLines(services.orders!, 'faults_active')).toEqual([]);
    const after = await http<{ details: { consumers: object } }>('GET', url('orders', '/health'));
    expect(after.body.details.consumers).not.toHaveProperty('stoppedByOperator');
  }, 90_000);

  it('on all of analytics: its Kafka members leave their groups, the lag grows; undone, it counts each record once', async () => {
    const records = (count: number) =>
      Array.from({ length: count }, () => {
        const orderId = randomUUID();
        const event = OrderCreated.create(
          { orderId, userId: 'u', items: [{ sku: 'S', quantity: 1, unitPrice: 10 }], total: 10 },
          { correlationId: orderId },
        );
        return recordFor(Topics.orderEvents, orderId, event);
      });
    await kafka.send(records(20));
    await waitFor('analytics to count the first 20', async () => (await counted()) === 20, { timeoutMs: 30_000 });
    await waitFor('the lag to be 0', async () => (await lagOf('order-events')) === 0);

    const on = await http<{ id: string }>('POST', `${analytics.url}/faults`, { kind: 'stop-consumers' });
    expect(on.status, JSON.stringify(on.body)).toBe(201);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const state = async (group: string) =>
        (await admin.describeGroups([kafka.name(group)])).groups[0]?.state ?? 'unknown';
      await waitFor('both groups of analytics to be empty', async () =>
        (await Promise.all(['analytics', 'analytics-accounts'].map(state))).every((s) => s === 'Empty'),
      );
      // The analytics-tracking queue's consumer is cancelled too.
      const health = await http<{ details: { consumers: unknown } }>('GET', `${analytics.url}/health`);
      expect(health.status).toBe(200);
      expect(health.body.details.consumers).toMatchObject({ stoppedByOperator: [{ source: 'all', by: 'tests' }] });

      await kafka.send(records(30));
      await waitFor('the lag to grow to 30', async () => (await lagOf('order-events')) === 30, { timeoutMs: 20_000 });
      expect(await counted()).toBe(20);

      expect((await http('DELETE', `${analytics.url}/faults/${on.body.id}`)).status).toBe(204);
      await waitFor('analytics to count all 50', async () => (await counted()) === 50, { timeoutMs: 60_000 });
      await waitFor('the lag to be 0 again', async () => (await lagOf('order-events')) === 0, { timeoutMs: 20_000 });
      expect(await state('analytics')).toBe('Stable');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await counted()).toBe(50);
    } finally {
      await admin.disconnect();
    }
  }, 120_000);

  it('is refused for a consumer the service does not run (400), and for a customer (403)', async () => {
    const wrong = await http('POST', url('payments', '/faults'), { kind: 'stop-consumers', source: 'nothing-here' });
    expect(wrong.status).toBe(400);
    const customer = await tokenFor({ role: 'customer', subject: userId });
    const refused = await http(
      'POST',
      url('payments', '/faults'),
      { kind: 'stop-consumers' },
      {
        authorization: `Bearer ${customer}`,
      },
    );
    expect(refused.status).toBe(403);
    expect((await http<{ faults: unknown[] }>('GET', url('payments', '/faults'))).body.faults).toEqual([]);
  });
});

interface StoredDeadLetter {
  queue: string;
  source: string;
  reason: string;
  correlationId: string;
  kafka: { consumerGroup?: string } | null;
}

const deadLettersOf = async (correlationId: string) =>
  (
    await http<{ deadLetters: StoredDeadLetter[] }>(
      'GET',
      url('audit', `/dead-letters?correlationId=${encodeURIComponent(correlationId)}`),
    )
  ).body.deadLetters;

describe('a poison message', () => {
  it('sent by orders to payment.process: each consumer dead-letters its copy with the reason; orders still confirm', async () => {
    const sent = await http<{ correlationId: string; reaches: string[]; deadLetters: string[]; by: string }>(
      'POST',
      url('orders', '/faults/poison'),
      { destination: 'saga-commands/payment.process', variant: 'invalid-payload' },
    );
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body).toMatchObject({
      by: 'tests',
      reaches: [Queues.paymentProcess, Queues.auditSaga],
      deadLetters: ['payment.process-dlq', 'audit-saga-dlq'],
    });
    const stored = await waitFor(
      'both copies in the dead letter store',
      async () => {
        const found = await deadLettersOf(sent.body.correlationId);
        return found.length === 2 ? found : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(stored.map((d) => d.queue).sort()).toEqual(['audit-saga-dlq', 'payment.process-dlq']);
    for (const letter of stored) expect(letter.reason).toMatch(/^InvalidMessageError: invalid payment\.process: data/);
    // Nothing else is affected: the next order goes through, and nothing else was dead-lettered meanwhile.
    const next = await order();
    await waitFor('the next order to confirm', async () => (await status(next)) === 'CONFIRMED', { timeoutMs: 30_000 });
    expect(await deadLettersOf(next)).toEqual([]);
  }, 60_000);

  it('sent by orders to order-events: the audit group dead-letters it to the dead letter topic, stored with its reason', async () => {
    const sent = await http<{ correlationId: string }>('POST', url('orders', '/faults/poison'), {
      destination: Topics.orderEvents,
      variant: 'unparseable',
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const [letter] = await waitFor(
      'the dead letter in the store',
      async () => {
        const found = await deadLettersOf(sent.body.correlationId);
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(letter).toMatchObject({ source: 'topic', queue: Topics.orderEventsDeadLetters });
    expect(letter!.kafka?.consumerGroup).toMatch(/audit$/);
    expect(letter!.reason).toMatch(/invalid JSON/);
  }, 60_000);

  it('is refused for a destination the service does not publish to, a variant it does not know, and a customer', async () => {
    const elsewhere = await http<{ message?: string; reason?: string }>('POST', url('payments', '/faults/poison'), {
      destination: 'user-events',
      variant: 'unparseable',
    });
    expect(elsewhere.status).toBe(400);
    expect(JSON.stringify(elsewhere.body)).toContain('publishes no user-events');
    const variant = await http('POST', url('orders', '/faults/poison'), { destination: 'user-events', variant: 'x' });
    expect(variant.status).toBe(400);
    const customer = await tokenFor({ role: 'customer', subject: userId });
    const refused = await http(
      'POST',
      url('orders', '/faults/poison'),
      { destination: 'user-events', variant: 'unparseable' },
      { authorization: `Bearer ${customer}` },
    );
    expect(refused.status).toBe(403);
  });
});
