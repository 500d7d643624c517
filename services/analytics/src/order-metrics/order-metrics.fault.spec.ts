import { randomUUID } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderConfirmed, OrderCreated, type OrderEvent } from '@am/contracts';
import { KafkaClient, Topics, recordFor } from '@am/messaging';
import { freePort, isolatedWorld, serviceEnv, ServiceProcess, testEnv, waitFor } from '@am/testing';
import { ORDER_METRICS_GROUP } from './order-metrics.loop.js';
import { sumDeltas, type MinuteDelta } from './order-metrics.aggregate.js';

// The exactly-once loop killed mid-transaction again and again: no aggregate counted twice.
const env = testEnv();
let kafka: KafkaClient;
let analytics: ServiceProcess;
let supervisor: NodeJS.Timeout | undefined;
let restarts = 0;

async function readAll(readUncommitted: boolean): Promise<MinuteDelta[]> {
  const topic = kafka.name(Topics.orderMetrics);
  const admin = kafka.admin();
  await admin.connect();
  const end = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const deltas: MinuteDelta[] = [];
  const consumer = kafka.kafka.consumer({ groupId: kafka.name(`reader-${randomUUID()}`), readUncommitted });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const position = new Map<number, number>();
  await consumer.run({
    eachMessage: async ({ partition, message }: { partition: number; message: KafkaMessage }) => {
      deltas.push(JSON.parse(message.value!.toString()) as MinuteDelta);
      position.set(partition, Number(message.offset) + 1);
    },
  });
  // Transaction markers take offsets too, so wait until the reader has seen what it can and stays quiet.
  let seen = -1;
  await waitFor(
    'the reader to go quiet',
    async () => {
      const quiet = seen === deltas.length;
      seen = deltas.length;
      return quiet && end.every((e) => Number(e.high) === 0 || (position.get(e.partition) ?? 0) > 0);
    },
    { timeoutMs: 30_000, intervalMs: 1_500 },
  );
  await consumer.disconnect();
  return deltas;
}

beforeAll(async () => {
  // Topics of its own: the test sums exactly the events it produced.
  const world = await isolatedWorld('analytics', 'metrics');
  kafka = new KafkaClient({
    brokers: [env.kafkaBrokers],
    clientId: 'order-metrics.fault',
    credentials: env.kafkaAdmin,
    prefix: world.kafkaPrefix,
  });
  await kafka.connectProducer();
  analytics = new ServiceProcess(
    'analytics',
    await freePort(),
    serviceEnv('analytics', env, { ...world.env, FAILPOINT: 'metrics-before-commit:0.4' }),
  );
  await analytics.start().catch(() => undefined);
  let restarting = false;
  supervisor = setInterval(() => {
    if (restarting || analytics.running) return;
    restarting = true;
    restarts += 1;
    void analytics
      .start()
      .catch(() => undefined)
      .finally(() => (restarting = false));
  }, 200);
});

afterAll(async () => {
  clearInterval(supervisor);
  await analytics?.stop();
  await kafka?.close();
});

describe('the exactly-once loop (consume, produce aggregates, commit offsets in one transaction)', () => {
  it('counts every event once, however often it is killed between produce and commit', async () => {
    const events: OrderEvent[] = [];
    for (let i = 0; i < 600; i++) {
      const orderId = randomUUID();
      events.push(
        OrderCreated.create(
          { orderId, userId: 'u', items: [{ sku: 'S', quantity: 1, unitPrice: 10 }], total: 10 },
          { correlationId: orderId },
        ),
      );
      if (i % 2 === 0)
        events.push(OrderConfirmed.create({ orderId, userId: 'u', total: 10 }, { correlationId: orderId }));
    }
    // In small sends, so the loop sees many batches (many transactions to be killed in).
    for (let i = 0; i < events.length; i += 30) {
      await kafka.send(events.slice(i, i + 30).map((e) => recordFor(Topics.orderEvents, e.data.orderId, e)));
      await new Promise((resolve) => setTimeout(resolve, 80));
    }
    const admin = kafka.admin();
    await admin.connect();
    await waitFor(
      'the loop to commit every offset',
      async () => {
        const end = await admin.fetchTopicOffsets(kafka.name(Topics.orderEvents));
        const [committed] = await admin.fetchOffsets({
          groupId: kafka.name(ORDER_METRICS_GROUP),
          topics: [kafka.name(Topics.orderEvents)],
        });
        return end.every((e) => committed!.partitions.find((p) => p.partition === e.partition)?.offset === e.high);
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    await admin.disconnect();

    const committed = sumDeltas(await readAll(false));
    const everything = sumDeltas(await readAll(true));
    console.log(
      `exactly-once: ${restarts} kills; read_committed ${JSON.stringify(committed)}; read_uncommitted ${JSON.stringify(everything)}`,
    );
    expect(committed).toEqual({ created: 600, confirmed: 300, cancelled: 0, revenue: 3_000 });
    expect(restarts).toBeGreaterThan(0);
    // The kills left aborted aggregates in the log: only a read_uncommitted reader counts them.
    expect(everything.created).toBeGreaterThan(committed.created);
  });
});
