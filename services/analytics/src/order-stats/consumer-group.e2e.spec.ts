import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderCreated, type OrderEvent } from '@am/contracts';
import { KafkaClient, Topics, recordFor } from '@am/messaging';
import { freePort, http, isolatedWorld, serviceEnv, ServiceProcess, testEnv, waitFor } from '@am/testing';

// Consumer group `analytics` with two instances: they share the partitions of order-events; when one stops,
// the other takes its partitions over, and nothing is lost or counted twice.
const env = testEnv();
let kafka: KafkaClient;
let first: ServiceProcess;
let second: ServiceProcess;

const created = (count: number): OrderEvent[] =>
  Array.from({ length: count }, () => {
    const orderId = randomUUID();
    return OrderCreated.create(
      { orderId, userId: 'u', items: [{ sku: 'S', quantity: 1, unitPrice: 10 }], total: 10 },
      { correlationId: orderId },
    );
  });

async function consumedBy(instance: ServiceProcess): Promise<number> {
  const text = await (await fetch(`${instance.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('messages_consumed_total{source="order-events"'));
  return Number(line?.split(' ').at(-1) ?? 0);
}

const summary = async (instance: ServiceProcess) =>
  (await http<{ ordersCreated: number }>('GET', `${instance.url}/analytics/summary`)).body.ordersCreated;

beforeAll(async () => {
  // Topics and a database of its own: the test counts exactly the events it produced.
  const world = await isolatedWorld('analytics', 'groups');
  kafka = new KafkaClient({
    brokers: [env.kafkaBrokers],
    clientId: 'consumer-group.e2e',
    credentials: env.kafkaAdmin,
    prefix: world.kafkaPrefix,
  });
  await kafka.connectProducer();
  const instance = (id: string) => serviceEnv('analytics', env, { ...world.env, INSTANCE_ID: id });
  first = await new ServiceProcess('analytics', await freePort(), instance('a')).start();
  second = await new ServiceProcess('analytics', await freePort(), instance('b')).start();
});

afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
  await kafka?.close();
});

describe('consumer group analytics with two instances', () => {
  it('shares the partitions, and the survivor takes over when one stops', async () => {
    // Wait for the group to settle with both members, then send events to every partition.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const batch1 = created(300);
    await kafka.send(batch1.map((e) => recordFor(Topics.orderEvents, e.data.orderId, e)));
    await waitFor('both instances to count the first 300', async () => (await summary(first)) === 300, {
      timeoutMs: 30_000,
    });
    const [a, b] = [await consumedBy(first), await consumedBy(second)];
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(a + b).toBe(300);

    await first.stop();
    const batch2 = created(300);
    await kafka.send(batch2.map((e) => recordFor(Topics.orderEvents, e.data.orderId, e)));
    await waitFor('the survivor to count all 600', async () => (await summary(second)) === 600, { timeoutMs: 60_000 });
    // A record the stopped instance handled but had not committed comes again; the inbox makes it a no-op.
    expect(await consumedBy(second)).toBeGreaterThanOrEqual(600 - a);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await summary(second)).toBe(600);
  });
});
