/**
 * Rebuilds the order statistics read model by replaying the Kafka topic `order-events` from offset 0
 * (pattern: replay / rebuildable read model): `node services/analytics/dist/replay/replay-order-stats.js`.
 *
 * 1. Replays into a shadow table while the live consumer keeps the live table current.
 * 2. Locks the live table against writers, reads the events that arrived meanwhile, and swaps the shadow in,
 *    all in one transaction. The live consumer waits on the lock for a moment and carries on; the projection is
 *    idempotent, so an event it applies after the swap that the replay already applied changes nothing.
 *
 * Reads the same environment as the service (DATABASE_URL, KAFKA_BROKERS, KAFKA_PREFIX). Prints progress and
 * events/s to stderr and a JSON summary to stdout.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { MessageCatalog, orderEvents, type OrderEvent } from '@am/contracts';
import { KafkaClient, Topics, readServiceConfig } from '@am/messaging';
import { createServiceDataSource, migrate } from '@am/persistence';
import { migrations } from '../migrations/index.js';
import { projectOrderEvents } from '../order-stats/order-stats.projection.js';

const config = readServiceConfig('analytics');
const catalog = new MessageCatalog([...orderEvents]);
const db = createServiceDataSource({ url: config.databaseUrl, migrations, applicationName: 'analytics-replay' });
await db.initialize();
await migrate(db);
const kafka = new KafkaClient({
  brokers: config.kafkaBrokers,
  clientId: 'analytics-replay',
  credentials: config.kafkaCredentials(),
  prefix: config.kafkaPrefix,
  ...(config.kafkaTls ? { tls: config.kafkaTls } : {}),
});
const topic = kafka.name(Topics.orderEvents);

async function endOffsets(): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

await db.query('DROP TABLE IF EXISTS order_stats_rebuild');
await db.query('CREATE TABLE order_stats_rebuild (LIKE order_stats INCLUDING ALL)');

const started = performance.now();
const position = new Map<number, number>();
let applied = 0;
let skipped = 0;
/** Where replayed events go: their own small transactions first, then the swap's transaction. */
let inflight: Promise<void> = Promise.resolve();
let sink: (apply: (manager: EntityManager) => Promise<void>) => Promise<void> = (apply) => db.transaction(apply);

const consumer = kafka.kafka.consumer({
  groupId: kafka.name(`analytics-replay-${randomUUID()}`),
  maxBytes: 4 * 1024 * 1024,
});
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
await consumer.run({
  autoCommit: false,
  eachBatch: async (payload) => {
    const { batch } = payload;
    const events: OrderEvent[] = [];
    for (const message of batch.messages) {
      const parsed = message.value ? catalog.parse(message.value) : undefined;
      if (parsed?.ok) events.push(parsed.message);
      else skipped += 1;
    }
    // The live consumer's set-based projection, into the shadow table.
    inflight = sink((manager) => projectOrderEvents(manager, events, 'order_stats_rebuild'));
    await inflight;
    applied += events.length;
    position.set(batch.partition, Number(batch.lastOffset()) + 1);
    await payload.heartbeat();
  },
});

const reached = (targets: Map<number, number>) =>
  [...targets].every(([partition, end]) => end === 0 || (position.get(partition) ?? 0) >= end);

async function until(targets: Map<number, number>): Promise<void> {
  let lastReport = performance.now();
  while (!reached(targets)) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (performance.now() - lastReport >= 1_000) {
      lastReport = performance.now();
      const total = [...targets.values()].reduce((a, b) => a + b, 0);
      const seconds = (performance.now() - started) / 1000;
      process.stderr.write(`replay: ${applied}/${total} events, ${Math.round(applied / seconds)} events/s\n`);
    }
  }
}

const firstEnd = await endOffsets();
await until(firstEnd);
const replaySeconds = (performance.now() - started) / 1000;

// The swap: live writers wait on the lock; events that arrived meanwhile go into the shadow in this transaction.
await db.transaction(async (manager) => {
  await manager.query('LOCK TABLE order_stats IN EXCLUSIVE MODE');
  const finalEnd = await endOffsets();
  sink = (apply) => apply(manager);
  await until(finalEnd);
  sink = async () => undefined;
  await inflight;
  await manager.query('TRUNCATE order_stats');
  await manager.query('INSERT INTO order_stats SELECT * FROM order_stats_rebuild');
  await manager.query('DROP TABLE order_stats_rebuild');
});
await consumer.disconnect();
await db.destroy();

const seconds = (performance.now() - started) / 1000;
process.stderr.write(
  `replay: done, ${applied} events in ${seconds.toFixed(2)} s (${Math.round(applied / replaySeconds)} events/s)\n`,
);
console.log(JSON.stringify({ events: applied, skipped, seconds, eventsPerSecond: applied / replaySeconds }));
