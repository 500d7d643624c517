/** Peer: the project's consumer path (AmqpClient + AmqpConsumer, manual ack after the work, bounded prefetch). */
import { AmqpClient, AmqpConsumer, defineSubscription } from '@am/messaging';
import { warnLogger } from './project-logger.js';
import { PeerStats, fixedWork, required, servePeer } from './work.js';

const stats = new PeerStats();
const client = new AmqpClient({ url: required('BENCH_AMQP_URL'), connectionName: 'bench-peer-project' });
await client.connect();
const consumer = new AmqpConsumer(
  client,
  defineSubscription({ queue: required('BENCH_QUEUE'), prefetch: Number(required('BENCH_PREFETCH')) }),
  async (message) => {
    const body = JSON.parse(message.content.toString()) as { sentAt: number };
    fixedWork();
    stats.record(body.sentAt);
  },
  { logger: warnLogger },
);
await client.addChannelUser(consumer);
servePeer(stats, async () => {
  await consumer.stop();
  await client.close();
});
