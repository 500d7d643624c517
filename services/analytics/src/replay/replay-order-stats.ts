/**
 * Rebuilds the order statistics read model by replaying the Kafka topic `order-events` from offset 0
 * (pattern: replay / rebuildable read model): `node services/analytics/dist/replay/replay-order-stats.js`, or
 * `./stack replay-analytics`. The rebuild itself is order-stats-rebuild.ts, the same code the control room's rebuild
 * button runs in the service (`POST /analytics/rebuild`): a shadow table filled beside the live consumer, then
 * compared with the live table and swapped in under a lock.
 *
 * Reads the same environment as the service (DATABASE_URL, KAFKA_BROKERS, KAFKA_PREFIX). Prints progress and
 * events/s to stderr and a JSON summary to stdout (with the CPU seconds the rebuild took).
 */
import { KafkaClient, readServiceConfig } from '@am/messaging';
import { createServiceDataSource, migrate } from '@am/persistence';
import { migrations } from '../migrations/index.js';
import { OrderStatsRebuild } from './order-stats-rebuild.js';

const config = readServiceConfig('analytics');
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

const rebuild = new OrderStatsRebuild(db, kafka);
const report = setInterval(() => {
  const p = rebuild.progress();
  const total = p.partitions.reduce((n, x) => n + Math.max(0, x.high - x.low), 0);
  process.stderr.write(`replay: ${p.events}/${total} events (${p.percent} %), ${p.eventsPerSecond} events/s\n`);
}, 1_000);
try {
  const cpu = process.cpuUsage();
  const result = await rebuild.run();
  const used = process.cpuUsage(cpu);
  process.stderr.write(
    `replay: done, ${result.events} events in ${result.seconds.toFixed(2)} s ` +
      `(${Math.round(result.eventsPerSecond)} events/s); ` +
      `${result.ordersDiffering} orders differed from the live read model, which is now the rebuilt one\n`,
  );
  // With the CPU this process used over the rebuild, in seconds.
  console.log(JSON.stringify({ ...result, cpuSeconds: (used.user + used.system) / 1e6 }));
} finally {
  clearInterval(report);
  await kafka.close();
  await db.destroy();
}
