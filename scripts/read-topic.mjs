// Reads a Kafka topic from its start with two readers side by side, one `read_committed` (what every consumer of the
// project uses) and one `read_uncommitted`, and prints how many records each saw: the difference is what transactions
// that never committed (a producer killed in the middle, or one that aborted) left in the log. The tour
// (docs/tour.md, stop 7) kills analytics' exactly-once loop in the middle of its transaction and reads `order-metrics`.
//
//   node scripts/read-topic.mjs TOPIC
//
// Environment: KAFKA_BROKERS, KAFKA_PREFIX, KAFKA_ADMIN_USERNAME and KAFKA_ADMIN_PASSWORD (natively the machine's
// administrator of Kafka), KAFKA_TLS/KAFKA_CA_FILE as for the services.
import { randomUUID } from 'node:crypto';
import { KafkaClient, consoleLogger, kafkaAdminCredentials, kafkaBrokers, kafkaTlsConfig } from '@am/messaging';

const [topic] = process.argv.slice(2);
if (!topic) {
  console.error('usage: node scripts/read-topic.mjs TOPIC');
  process.exit(2);
}
const { kafkaTls } = kafkaTlsConfig();
const client = new KafkaClient({
  brokers: kafkaBrokers(),
  clientId: 'read-topic',
  credentials: kafkaAdminCredentials(),
  prefix: process.env.KAFKA_PREFIX ?? '',
  ...(kafkaTls ? { tls: kafkaTls } : {}),
  logger: { ...consoleLogger, info: () => undefined },
});

/** Every record the reader gets from the topic's start, until it has had nothing new for `quietMs`. */
async function count(readUncommitted) {
  const consumer = client.kafka.consumer({ groupId: client.name(`read-topic-${randomUUID()}`), readUncommitted });
  let records = 0;
  let last = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topic: client.name(topic), fromBeginning: true });
  await consumer.run({
    eachMessage: async () => {
      records += 1;
      last = Date.now();
    },
  });
  const joined = Date.now();
  while (Date.now() - Math.max(last, joined) < 3_000) await new Promise((resolve) => setTimeout(resolve, 200));
  await consumer.disconnect();
  return records;
}

try {
  const [committed, uncommitted] = await Promise.all([count(false), count(true)]);
  console.log(`read_committed: ${committed} records, read_uncommitted: ${uncommitted} records`);
  console.log(
    uncommitted > committed
      ? `${uncommitted - committed} record(s) of a transaction that never committed: only read_uncommitted sees them`
      : 'both readers saw the same records: no transaction was left open or aborted',
  );
} finally {
  await client.close();
}
