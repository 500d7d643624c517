import { randomUUID } from 'node:crypto';
import kafkajs, { type KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderCreated } from '@am/contracts';
import { testEnv, waitFor } from '@am/testing';
import { InvalidMessageError } from '../errors.js';
import { DependencyBreakers } from '../outage/dependency-breakers.js';
import { silentLogger } from '../logger.js';
import { DEAD_LETTER_MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES, Topics } from '../topology.js';
import { KafkaClient, KafkaHeaders, KafkaSendTimeoutError, readHeaders, recordFor } from './kafka-client.js';
import { KafkaGroupConsumer } from './kafka-consumer.js';
import { defineKafkaSubscription } from './kafka-subscription.js';

// Real Kafka; topics and groups carry this run's prefix.
const env = testEnv();
const client = new KafkaClient({
  brokers: [env.kafkaBrokers],
  clientId: 'kafka.int.spec',
  credentials: env.kafkaAdmin,
  prefix: env.kafkaPrefix,
});

const orderCreated = () => {
  const orderId = randomUUID();
  return OrderCreated.create(
    { orderId, userId: randomUUID(), items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }], total: 100 },
    { correlationId: orderId },
  );
};

/** Reads the dead letter topic from its start with a group of its own; `dead` fills as records arrive. */
async function readDeadLetters() {
  const dead: KafkaMessage[] = [];
  const reader = client.consumer(`dlt-${randomUUID()}`);
  await reader.connect();
  await reader.subscribe({ topic: client.name(Topics.orderEventsDeadLetters), fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) => {
      dead.push(message);
    },
  });
  return { dead, reader };
}

beforeAll(async () => {
  await client.connectProducer();
});

afterAll(async () => {
  await client.close();
});

describe('Kafka', () => {
  it('produces keyed records with the envelope headers and consumes them in a group', async () => {
    const events = [orderCreated(), orderCreated(), orderCreated()];
    await client.send(events.map((e) => recordFor(Topics.orderEvents, e.data.orderId, e)));
    const seen = new Map<string, { message: KafkaMessage; partition: number }>();
    const consumer = new KafkaGroupConsumer(
      client,
      defineKafkaSubscription({ topic: Topics.orderEvents, groupId: `group-${randomUUID()}` }),
      async (message, partition) => {
        seen.set(message.key!.toString(), { message, partition });
      },
    );
    await consumer.start();
    await waitFor('all three records', () => events.every((e) => seen.has(e.data.orderId)), { timeoutMs: 30_000 });
    await consumer.stop();
    for (const event of events) {
      const { message } = seen.get(event.data.orderId)!;
      expect(JSON.parse(message.value!.toString())).toEqual(event);
      expect(readHeaders(message.headers)).toMatchObject({
        [KafkaHeaders.eventType]: 'order.created',
        [KafkaHeaders.correlationId]: event.correlationId,
        [KafkaHeaders.messageId]: event.messageId,
      });
    }
  });

  it('replaces a producer whose send has no answer in time, and the next send goes through a new one', async () => {
    const warnings: string[] = [];
    const impatient = new KafkaClient({
      brokers: [env.kafkaBrokers],
      clientId: 'kafka.int.spec-impatient',
      credentials: env.kafkaAdmin,
      prefix: env.kafkaPrefix,
      sendTimeoutMs: 2_000,
      logger: { ...silentLogger, warn: (_obj, msg) => warnings.push(String(msg)) },
    });
    try {
      const hanging = orderCreated();
      // Topics are never created on demand, and the producer retries for ever: a send that can never be answered.
      const topic = `missing-${randomUUID()}`;
      await expect(impatient.send([recordFor(topic, hanging.data.orderId, hanging)])).rejects.toThrow(
        KafkaSendTimeoutError,
      );
      expect(warnings).toContain('kafka: send failed; the producer is replaced by a new one');

      const event = orderCreated();
      await impatient.send([recordFor(Topics.orderEvents, event.data.orderId, event)]);
      await waitFor('the new producer to report connected', () => impatient.isProducerConnected);
      const seen: string[] = [];
      const consumer = new KafkaGroupConsumer(
        client,
        defineKafkaSubscription({ topic: Topics.orderEvents, groupId: `group-${randomUUID()}` }),
        async (message) => {
          seen.push(message.key!.toString());
        },
      );
      await consumer.start();
      await waitFor('the record sent after the replacement', () => seen.includes(event.data.orderId), {
        timeoutMs: 30_000,
      });
      await consumer.stop();
    } finally {
      await impatient.close();
    }
  });

  it('writes one info line per handled record, with its type, ids, group and attempts', async () => {
    const lines: { obj: Record<string, unknown>; msg?: string }[] = [];
    const logger = { ...silentLogger, info: (obj: object, msg?: string) => lines.push({ obj: { ...obj }, msg }) };
    const event = orderCreated();
    const groupId = `group-${randomUUID()}`;
    const consumer = new KafkaGroupConsumer(
      client,
      defineKafkaSubscription({ topic: Topics.orderEvents, groupId }),
      async () => undefined,
      { logger },
    );
    await consumer.start();
    await client.send([recordFor(Topics.orderEvents, event.data.orderId, event)]);
    const mine = () => lines.filter((l) => l.msg === 'kafka: record handled' && l.obj.messageId === event.messageId);
    await waitFor('the line of the record', () => mine().length === 1, { timeoutMs: 30_000 });
    await consumer.stop();
    expect(mine()[0]!.obj).toMatchObject({
      topic: Topics.orderEvents,
      groupId,
      messageType: 'order.created',
      correlationId: event.correlationId,
      outcome: 'handled',
      attempts: 1,
    });
  });

  it('keeps every record of one key on one partition, in order', async () => {
    const orderId = randomUUID();
    const events = Array.from({ length: 5 }, () =>
      OrderCreated.create(
        { orderId, userId: 'u', items: [{ sku: 'S', quantity: 1, unitPrice: 1 }], total: 1 },
        { correlationId: orderId },
      ),
    );
    for (const e of events) await client.send([recordFor(Topics.orderEvents, orderId, e)]);
    const seen: { id: string; partition: number }[] = [];
    const consumer = new KafkaGroupConsumer(
      client,
      defineKafkaSubscription({ topic: Topics.orderEvents, groupId: `group-${randomUUID()}` }),
      async (message, partition) => {
        if (message.key?.toString() === orderId)
          seen.push({ id: readHeaders(message.headers)['message-id']!, partition });
      },
    );
    await consumer.start();
    await waitFor('five records', () => seen.length === 5, { timeoutMs: 30_000 });
    await consumer.stop();
    expect(seen.map((s) => s.id)).toEqual(events.map((e) => e.messageId));
    expect(new Set(seen.map((s) => s.partition)).size).toBe(1);
  });

  it('sends a record that keeps failing to the dead letter topic and keeps the partition moving', async () => {
    const poison = orderCreated();
    const healthy = orderCreated();
    // Same key: same partition, the healthy record queued right behind the poison one.
    await client.send([
      recordFor(Topics.orderEvents, 'same-key', poison),
      recordFor(Topics.orderEvents, 'same-key', healthy),
    ]);
    const handled: string[] = [];
    const group = `group-${randomUUID()}`;
    const consumer = new KafkaGroupConsumer(
      client,
      defineKafkaSubscription({ topic: Topics.orderEvents, groupId: group, retryDelaysMs: [10, 10] }),
      async (message) => {
        const id = readHeaders(message.headers)[KafkaHeaders.messageId];
        if (id === poison.messageId) throw new InvalidMessageError('invalid order.created: data.total: too small');
        handled.push(id!);
      },
    );
    const { dead, reader: dltReader } = await readDeadLetters();
    await consumer.start();
    await waitFor('the healthy record behind the poison one', () => handled.includes(healthy.messageId), {
      timeoutMs: 30_000,
    });
    const letter = await waitFor(
      'the dead letter',
      () => dead.find((m) => readHeaders(m.headers)[KafkaHeaders.messageId] === poison.messageId),
      {
        timeoutMs: 30_000,
      },
    );
    await consumer.stop();
    await dltReader.disconnect();
    expect(readHeaders(letter.headers)).toMatchObject({
      [KafkaHeaders.error]: 'InvalidMessageError: invalid order.created: data.total: too small',
      [KafkaHeaders.originalTopic]: client.name(Topics.orderEvents),
      [KafkaHeaders.attempts]: '1',
    });
    expect(JSON.parse(letter.value!.toString())).toEqual(poison);
  });

  it('at the end of the line (deadLetter: false) tries a failing record again until it gets through, never dead-lettered', async () => {
    const stubborn = orderCreated();
    await client.send([recordFor(Topics.orderEvents, 'end-of-line', stubborn)]);
    let attempts = 0;
    const group = `group-${randomUUID()}`;
    const consumer = new KafkaGroupConsumer(
      client,
      defineKafkaSubscription({
        topic: Topics.orderEvents,
        groupId: group,
        retryDelaysMs: [10, 10],
        deadLetter: false,
      }),
      async (message) => {
        if (readHeaders(message.headers)[KafkaHeaders.messageId] !== stubborn.messageId) return;
        attempts += 1;
        // Past the two retries, and even a permanent failure, it comes back: six failures, then it is stored.
        if (attempts <= 6) throw new InvalidMessageError('cannot store it yet');
      },
    );
    const { dead, reader: dltReader } = await readDeadLetters();
    await consumer.start();
    await waitFor('the record to get through', () => attempts === 7, { timeoutMs: 30_000 });
    await consumer.stop();
    await dltReader.disconnect();
    expect(dead.filter((m) => readHeaders(m.headers)[KafkaHeaders.messageId] === stubborn.messageId)).toEqual([]);
  });

  it('waits out a database outage longer than the session timeout: nothing dead-lettered, every record handled', async () => {
    const records = Array.from({ length: 10 }, orderCreated);
    await client.send(records.map((r, i) => recordFor(Topics.orderEvents, `outage-${i % 3}`, r)));
    let databaseUp = false;
    let failedAttempts = 0;
    const handled = new Set<string>();
    const breakers = new DependencyBreakers({
      probes: { postgres: () => databaseUp },
      initialProbeDelayMs: 100,
      maxProbeDelayMs: 500,
      logger: silentLogger,
    });
    const ours = new Set(records.map((r) => r.messageId));
    const consumer = new KafkaGroupConsumer(
      client,
      // Without the breaker, three quick attempts would send each record to the dead letter topic.
      defineKafkaSubscription({ topic: Topics.orderEvents, groupId: `group-${randomUUID()}`, retryDelaysMs: [10, 10] }),
      async (message) => {
        const id = readHeaders(message.headers)[KafkaHeaders.messageId]!;
        if (!ours.has(id)) return;
        if (!databaseUp) {
          failedAttempts += 1;
          throw Object.assign(new Error('the database system is shutting down'), { code: '57P03' });
        }
        handled.add(id);
      },
      { breakers },
    );
    await consumer.start();
    await waitFor('the breaker to open', () => breakers.anyOpen, { timeoutMs: 30_000 });
    // Longer than the group's session timeout (10 s): heartbeats keep the partition with this member.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    expect(handled.size).toBe(0);
    // One failed attempt per partition at most (30 without the breaker: 10 records × 3 attempts).
    expect(failedAttempts, 'the waiting partitions do not hammer the database').toBeLessThanOrEqual(3);
    databaseUp = true;
    // A dead-lettered record is skipped, never handled: every record handled means none was dead-lettered.
    await waitFor('every record handled after the outage', () => handled.size === records.length, {
      timeoutMs: 30_000,
    });
    await consumer.stop();
  }, 60_000);

  it('dead-letters a 0.99 MB poison record, as a reference when it cannot be copied, and consumes the next record', async () => {
    const admin = client.admin();
    await admin.connect();
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [Topics.orderEvents, Topics.orderEventsDeadLetters].map((t) => ({
        type: kafkajs.ConfigResourceTypes.TOPIC,
        name: client.name(t),
        configNames: ['max.message.bytes'],
      })),
    });
    await admin.disconnect();
    // The size limits are set on purpose: the dead letter topic takes more than its source.
    expect(described.resources.map((r) => r.configEntries[0]?.configValue)).toEqual([
      String(MAX_MESSAGE_BYTES),
      String(DEAD_LETTER_MAX_MESSAGE_BYTES),
    ]);

    const key = `poison-${randomUUID()}`;
    const poison = Buffer.alloc(MAX_MESSAGE_BYTES - 500, 'x'); // 0.99 MB of invalid JSON, just under the limit
    const healthy = orderCreated();
    await client.send([{ topic: Topics.orderEvents, key, value: poison, headers: { 'message-id': 'poison-1' } }]);
    await client.send([recordFor(Topics.orderEvents, key, healthy)]);
    const handled: string[] = [];
    const group = `group-${randomUUID()}`;
    const consumer = new KafkaGroupConsumer(
      client,
      defineKafkaSubscription({
        topic: Topics.orderEvents,
        groupId: group,
        retryDelaysMs: [10],
        // A dead letter topic no larger than its source: the copy with its headers cannot fit, the reference does.
        deadLetterMaxBytes: MAX_MESSAGE_BYTES,
      }),
      async (message) => {
        const value = message.value?.toString() ?? '';
        if (!value.startsWith('{')) throw new InvalidMessageError('invalid JSON');
        handled.push(readHeaders(message.headers)[KafkaHeaders.messageId]!);
      },
    );
    const { dead, reader: dltReader } = await readDeadLetters();
    await consumer.start();
    await waitFor('the record behind the poison one', () => handled.includes(healthy.messageId), {
      timeoutMs: 30_000,
    });
    const letter = await waitFor(
      'the dead letter',
      () => dead.find((m) => readHeaders(m.headers)[KafkaHeaders.messageId] === 'poison-1'),
      { timeoutMs: 30_000 },
    );
    await consumer.stop();
    await dltReader.disconnect();
    expect(consumer.isRunning).toBe(false);
    expect(readHeaders(letter.headers)).toMatchObject({
      [KafkaHeaders.error]: 'InvalidMessageError: invalid JSON',
      [KafkaHeaders.consumerGroup]: client.name(group),
      [KafkaHeaders.bodyOmitted]: String(poison.length),
    });
    expect(JSON.parse(letter.value!.toString())).toMatchObject({ sizeBytes: poison.length });
  }, 60_000);

  it('comes back after a crash outside the handler, and is not running meanwhile', async () => {
    const records = [orderCreated(), orderCreated()];
    const ours = new Set(records.map((r) => r.messageId));
    const handled = new Set<string>();
    const consumer = new KafkaGroupConsumer(
      client,
      // From the beginning: the group commits nothing before the crash, and must not skip to the end after it.
      defineKafkaSubscription({ topic: Topics.orderEvents, groupId: `group-${randomUUID()}`, fromBeginning: true }),
      async (message) => {
        const id = readHeaders(message.headers)[KafkaHeaders.messageId]!;
        if (ours.has(id)) handled.add(id);
      },
    );
    await consumer.start();
    await waitFor('the consumer to join its group', () => consumer.isRunning, { timeoutMs: 30_000 });
    // Every record taken now throws before the handler runs, the way a bug in the consumer's own code would.
    process.env.FAILPOINT = 'kafka-consumer-outside-handler:1:throw';
    try {
      await client.send(records.map((r) => recordFor(Topics.orderEvents, r.data.orderId, r)));
      await waitFor('the crash to show (isRunning false: /health red)', () => !consumer.isRunning, {
        timeoutMs: 90_000,
      });
    } finally {
      delete process.env.FAILPOINT;
    }
    await waitFor('the consumer to come back and handle the records', () => consumer.isRunning && handled.size === 2, {
      timeoutMs: 90_000,
    });
    await consumer.stop();
  }, 200_000);
});
