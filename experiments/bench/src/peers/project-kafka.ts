/** Peer: the project's Kafka consumer path (KafkaClient + KafkaGroupConsumer, offsets committed after the work). */
import { KafkaClient, KafkaGroupConsumer, defineKafkaSubscription } from '@am/messaging';
import { warnLogger } from './project-logger.js';
import { PeerStats, fixedWork, required, servePeer } from './work.js';

const stats = new PeerStats();
const client = new KafkaClient({
  brokers: required('BENCH_KAFKA_BROKERS').split(','),
  clientId: 'bench-peer-project',
  credentials: { username: required('BENCH_KAFKA_USERNAME'), password: required('BENCH_KAFKA_PASSWORD') },
  prefix: required('BENCH_KAFKA_PREFIX'),
});
const consumer = new KafkaGroupConsumer(
  client,
  defineKafkaSubscription({ topic: required('BENCH_TOPIC'), groupId: required('BENCH_GROUP'), fromBeginning: true }),
  async (message) => {
    const body = JSON.parse(message.value?.toString() ?? '{}') as { sentAt: number };
    fixedWork();
    stats.record(body.sentAt);
  },
  { logger: warnLogger },
);
await consumer.start();
servePeer(stats, () => consumer.stop());
