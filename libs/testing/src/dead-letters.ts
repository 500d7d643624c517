import amqp from 'amqplib';
import { KafkaClient, KafkaHeaders, RetryHeaders, Topics, allQueueNames, readHeaders } from '@am/messaging';
import { query } from './invariants.js';
import { testEnv, type TestEnv } from './test-env.js';

/** One dead letter, described well enough that a failing fault test explains itself. */
export interface DeadLetterReport {
  /** Where it is: a dead letter queue, the audit service's dead-letter store, or a Kafka dead letter topic. */
  where: string;
  messageId: string;
  type: string;
  reason: string;
  retries: number;
}

export const formatDeadLetter = (d: DeadLetterReport) =>
  `${d.where}: ${d.type} ${d.messageId} after ${d.retries} retries: ${d.reason}`;

/** Dead letters waiting in the run's `-dlq` queues, read without taking them (the channel closes unacknowledged). */
export async function deadLettersInQueues(env: TestEnv = testEnv()): Promise<DeadLetterReport[]> {
  const connection = await amqp.connect(env.adminAmqpUrl);
  const found: DeadLetterReport[] = [];
  try {
    const channel = await connection.createChannel();
    for (const queue of allQueueNames().filter((q) => q.endsWith('-dlq'))) {
      for (;;) {
        const message = await channel.get(queue, { noAck: false });
        if (!message) break;
        const headers = message.properties.headers ?? {};
        found.push({
          where: queue,
          messageId: String(message.properties.messageId),
          type: String(message.properties.type ?? 'unknown'),
          reason: String(headers[RetryHeaders.error] ?? 'rejected without a reason'),
          retries: Number(headers[RetryHeaders.retryCount] ?? 0),
        });
      }
    }
    // Closing the channel returns every message it took, unacknowledged, to its queue.
    await channel.close();
  } finally {
    await connection.close();
  }
  return found;
}

/**
 * Empties every queue of the run: work queues, retry queues and dead letter queues. The files of a broker tier run
 * one at a time in one vhost, so a test that counts what it caused (dead letters, messages handled) calls this
 * first: whatever an earlier file left behind, a failed one included, is gone before its services start.
 */
export async function purgeRunQueues(env: TestEnv = testEnv()): Promise<number> {
  const connection = await amqp.connect(env.adminAmqpUrl);
  let purged = 0;
  try {
    const channel = await connection.createChannel();
    for (const queue of allQueueNames()) purged += (await channel.purgeQueue(queue)).messageCount;
    await channel.close();
  } finally {
    await connection.close();
  }
  return purged;
}

/**
 * Dead letters of the queues that the audit service stored since `since` (the store drains every dead letter queue
 * when audit runs). Those of the dead letter topic, which audit stores too, are `deadLettersInTopic`'s.
 */
export async function deadLettersInStore(since: Date, env: TestEnv = testEnv()): Promise<DeadLetterReport[]> {
  const rows = await query<{
    queue: string;
    message_id: string;
    message_type: string | null;
    reason: string;
    retry_count: number;
  }>(
    env,
    'audit',
    `SELECT queue, message_id, message_type, reason, retry_count FROM dead_letters
      WHERE received_at >= $1 AND source = 'queue' ORDER BY id`,
    [since],
  ).catch(() => []);
  return rows.map((r) => ({
    where: `dead-letter store (${r.queue})`,
    messageId: r.message_id,
    type: r.message_type ?? 'unknown',
    reason: r.reason,
    retries: r.retry_count,
  }));
}

/** Records written to the Kafka dead letter topic since `since`. */
export async function deadLettersInTopic(since: Date, env: TestEnv = testEnv()): Promise<DeadLetterReport[]> {
  const client = new KafkaClient({
    brokers: [env.kafkaBrokers],
    ...(env.kafkaTls ? { tls: env.kafkaTls } : {}),
    clientId: 'dead-letter-report',
    credentials: env.kafkaAdmin,
    prefix: env.kafkaPrefix,
  });
  const admin = client.admin();
  await admin.connect();
  try {
    const topic = client.name(Topics.orderEventsDeadLetters);
    const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
    const pending = offsets.filter((p) => Number(p.high) > Number(p.low));
    if (pending.length === 0) return [];
    const consumer = client.kafka.consumer({ groupId: `dead-letter-report-${Date.now()}`, readUncommitted: false });
    const found: DeadLetterReport[] = [];
    const remaining = new Map(pending.map((p) => [p.partition, Number(p.high)]));
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const done = new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ partition, message }) => {
            if (Number(message.timestamp) >= since.getTime()) {
              const headers = readHeaders(message.headers);
              found.push({
                where: `${Topics.orderEventsDeadLetters} (${headers[KafkaHeaders.originalTopic] ?? '?'})`,
                messageId: headers[KafkaHeaders.messageId] ?? 'unknown',
                type: headers[KafkaHeaders.eventType] ?? 'unknown',
                reason: headers[KafkaHeaders.error] ?? 'no reason',
                retries: Math.max(0, Number(headers[KafkaHeaders.attempts] ?? 1) - 1),
              });
            }
            if (Number(message.offset) + 1 >= (remaining.get(partition) ?? 0)) remaining.delete(partition);
            if (remaining.size === 0) resolve();
          },
        });
      });
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    } finally {
      await consumer.disconnect();
    }
    return found;
  } finally {
    await admin.disconnect();
    await client.close();
  }
}
