import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderConfirmed, OrderCreated, UserRegistered } from '@am/contracts';
import {
  AmqpClient,
  Exchanges,
  KafkaClient,
  KafkaHeaders,
  Topics,
  readHeaders,
  recordFor,
  replayTopic,
} from '@am/messaging';
import {
  freePort,
  http,
  newRunId,
  provisionWorld,
  serviceEnv,
  ServiceProcess,
  testEnv,
  waitFor,
  type ProvisionedWorld,
} from '@am/testing';
import type { DeadLetterView } from '../inspect-dead-letters/dead-letter.view.js';
import type { ReplayAnswer } from './replay-dead-letter.controller.js';

// Kafka's dead letter, made by a real failure and replayed once its cause is fixed. Email and audit run as processes
// in a world of their own (vhost, topics, databases), so that the group order-notifications and the mail lanes are
// this file's email alone. An order confirmation arrives for a user whose registration email has not seen: it fails
// past its retries (UnknownRecipientError), lands in order-events.dlt, and audit stores it. Then the user registers,
// an operator replays the dead letter through the group's replay topic, and the e-mail goes out once; a second
// replay is refused and sends nothing.
const env = testEnv(newRunId());
let world: ProvisionedWorld;
const services: Record<string, ServiceProcess> = {};
let admin: KafkaClient;
let rabbit: AmqpClient;
const url = (service: string, path: string) => `${services[service]!.url}${path}`;
const userId = randomUUID();
const address = `${userId}@example.com`;

beforeAll(async () => {
  world = await provisionWorld(env);
  for (const service of ['email', 'audit'] as const) {
    services[service] = await new ServiceProcess(service, await freePort(), serviceEnv(service, env)).start();
  }
  admin = new KafkaClient({
    brokers: [env.kafkaBrokers],
    ...(env.kafkaTls ? { tls: env.kafkaTls } : {}),
    clientId: 'kafka-replay-e2e',
    credentials: env.kafkaAdmin,
    prefix: env.kafkaPrefix,
  });
  rabbit = new AmqpClient({ url: env.adminAmqpUrl, connectionName: 'kafka-replay.e2e.spec' });
  await rabbit.connect();
  await consumerGroupReady();
}, 120_000);

afterAll(async () => {
  await admin?.close();
  await rabbit?.close();
  await Promise.all(Object.values(services).map((s) => s.stop()));
  await world?.teardown();
});

/** Order events email handled (order-notifications starts at the end of the topic: it must have joined first). */
async function consumedByEmail(): Promise<number> {
  const text = await (await fetch(url('email', '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`messages_consumed_total{source="${Topics.orderEvents}",`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function consumerGroupReady(): Promise<void> {
  await waitFor(
    'email to read order-events',
    async () => {
      const warmUp = randomUUID();
      const created = OrderCreated.create(
        { orderId: warmUp, userId, items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }], total: 100 },
        { correlationId: warmUp },
      );
      await admin.send([recordFor(Topics.orderEvents, warmUp, created)]);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      return (await consumedByEmail()) > 0 ? true : undefined;
    },
    { timeoutMs: 60_000 },
  );
}

/** The e-mails email sent to the user, by kind. */
const sentKinds = async () =>
  (await http<{ kind: string }[]>('GET', url('email', `/emails?to=${encodeURIComponent(address)}`))).body
    .map((e) => e.kind)
    .sort();

/** What the run's SMTP sink received for the user's address. */
const inMailbox = async () =>
  (
    await http<{ total: number }>(
      'GET',
      `${process.env.TEST_SMTP_API_URL}/messages?to=${encodeURIComponent(address)}`,
      undefined,
      { authorization: '' },
    )
  ).body.total;

const kafkaDeadLetters = async (correlationId: string) =>
  (
    await http<{ deadLetters: DeadLetterView[] }>(
      'GET',
      url('audit', `/dead-letters?source=topic&correlationId=${correlationId}`),
    )
  ).body.deadLetters;

/** Records ever written to a topic of this world (the sum of its partitions' end offsets). */
async function recordsIn(topic: string): Promise<number> {
  const kafka = admin.admin();
  await kafka.connect();
  try {
    const offsets = await kafka.fetchTopicOffsets(admin.name(topic));
    return offsets.reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await kafka.disconnect();
  }
}

describe("replaying a Kafka dead letter through its group's replay topic", () => {
  it('stores a real failure once, replays it once, and the e-mail goes out once', async () => {
    // Given an order confirmation for a user whose registration email has not seen
    const orderId = randomUUID();
    const confirmed = OrderConfirmed.create({ orderId, userId, total: 2500 }, { correlationId: orderId });
    await admin.send([recordFor(Topics.orderEvents, orderId, confirmed)]);

    // Then, past its retries, it is in order-events.dlt and audit lists it, with where it came from and why
    const [letter] = await waitFor(
      'the Kafka dead letter to be stored',
      async () => {
        const letters = await kafkaDeadLetters(orderId);
        return letters.length > 0 ? letters : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(letter).toMatchObject({
      queue: Topics.orderEventsDeadLetters,
      source: 'topic',
      originalQueue: null,
      messageId: confirmed.messageId,
      type: 'order.confirmed',
      retryCount: 3,
      reason: expect.stringMatching(/^UnknownRecipientError: no user.registered seen for user/),
      replayedAt: null,
      kafka: {
        topic: Topics.orderEvents,
        consumerGroup: 'order-notifications',
        replayTopic: replayTopic(Topics.orderEvents, 'order-notifications'),
        bodyOmittedBytes: null,
      },
    });
    expect(await sentKinds()).toEqual([]);
    // ... and audit measures its reader's lag on the dead letter topic, and its own group's on its replay topic
    await waitFor('the lag of audit-dead-letters and of the replay topic', async () => {
      const lines = (await (await fetch(url('audit', '/metrics'))).text()).split('\n');
      const lag = (topic: string, group: string) =>
        lines.some(
          (l) =>
            l.startsWith('consumer_lag_messages{') && l.includes(`topic="${topic}"`) && l.includes(`group="${group}"`),
        );
      return lag(Topics.orderEventsDeadLetters, 'audit-dead-letters') &&
        lag(replayTopic(Topics.orderEvents, 'audit'), 'audit')
        ? true
        : undefined;
    });
    // ... beside the queues' dead letters, in the list without filters
    const all = await http<{ deadLetters: DeadLetterView[] }>('GET', url('audit', '/dead-letters'));
    expect(all.body.deadLetters.map((d) => d.id)).toContain(letter!.id);

    // When the same dead letter is in the topic twice (a consumer that crashed after writing it writes it again),
    // followed by another group's dead letter whose body was too large to copy
    const written = await readDeadLetterTopic(1);
    const copy = written[0]!;
    const bigId = randomUUID();
    await admin.send([
      { topic: Topics.orderEventsDeadLetters, key: copy.key, value: copy.value, headers: copy.headers },
      {
        topic: Topics.orderEventsDeadLetters,
        key: bigId,
        value: '{"bodyOmitted":"too large"}',
        headers: {
          [KafkaHeaders.messageId]: bigId,
          [KafkaHeaders.correlationId]: orderId,
          [KafkaHeaders.error]: 'Error: boom',
          [KafkaHeaders.originalTopic]: admin.name(Topics.orderEvents),
          [KafkaHeaders.originalPartition]: '0',
          [KafkaHeaders.originalOffset]: '999999',
          [KafkaHeaders.attempts]: '1',
          [KafkaHeaders.consumerGroup]: admin.name('audit'),
          [KafkaHeaders.bodyOmitted]: '1048000',
        },
      },
    ]);
    // Then the copy is stored once: once the later record is stored, the copy before it was read too
    const both = await waitFor('the later dead letter to be stored', async () => {
      const letters = await kafkaDeadLetters(orderId);
      return letters.length >= 2 ? letters : undefined;
    });
    expect(both.map((d) => d.messageId).sort()).toEqual([bigId, confirmed.messageId].sort());
    // ... and the one whose body was omitted cannot be replayed, with where the body is
    const big = both.find((d) => d.messageId === bigId)!;
    const refused = await http<{ message: string }>('POST', url('audit', `/dead-letters/${big.id}/replay`));
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/body omitted \(1048000 bytes\): read it from order-events\/0\/999999/);

    // When the cause is fixed (the user registers: email stores the address and sends the welcome e-mail)
    await rabbit.publish(
      Exchanges.userEvents,
      '',
      UserRegistered.create(
        { userId, email: address, firstName: 'Ann', lastName: '', locale: 'en' },
        { correlationId: userId },
      ),
    );
    await waitFor('the welcome e-mail', async () => ((await sentKinds()).includes('welcome') ? true : undefined));
    // ... and the dead letter is replayed by an operator
    const replay = await http<ReplayAnswer>('POST', url('audit', `/dead-letters/${letter!.id}/replay`));

    // Then one record goes to the group's replay topic, and the e-mail goes out, once
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({
      id: letter!.id,
      replayedTo: replayTopic(Topics.orderEvents, 'order-notifications'),
      messageId: confirmed.messageId,
      replayCount: 1,
      replayedBy: 'tests',
    });
    await waitFor('the order e-mail to be sent', async () =>
      (await sentKinds()).includes('order-confirmed') ? true : undefined,
    );
    expect(await recordsIn(replayTopic(Topics.orderEvents, 'order-notifications'))).toBe(1);
    const [replayed] = await readTopic(replayTopic(Topics.orderEvents, 'order-notifications'), 1);
    expect(replayed!.headers).toMatchObject({
      [KafkaHeaders.messageId]: confirmed.messageId,
      [KafkaHeaders.correlationId]: orderId,
      'x-replayed-from': expect.stringMatching(/^order-events\/\d\/\d+$/),
    });
    expect(Object.keys(replayed!.headers).filter((h) => h.startsWith('x-') && h !== 'x-replayed-from')).toEqual([]);

    // When it is replayed again
    const again = await http<{ message: string }>('POST', url('audit', `/dead-letters/${letter!.id}/replay`));

    // Then 409, nothing more is produced, and no second e-mail follows
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/was replayed at/);
    const after = await http<DeadLetterView>('GET', url('audit', `/dead-letters/${letter!.id}`));
    expect(after.body).toMatchObject({ replayCount: 1, replayedBy: 'tests' });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await recordsIn(replayTopic(Topics.orderEvents, 'order-notifications'))).toBe(1);
    expect(await sentKinds()).toEqual(['order-confirmed', 'welcome']);
    expect(await inMailbox()).toBe(2);
  }, 120_000);
});

/** The first `count` records of a topic of this world, read by the admin in a throwaway group. */
async function readTopic(
  topic: string,
  count: number,
): Promise<{ key: string; value: string; headers: Record<string, string> }[]> {
  const consumer = admin.kafka.consumer({ groupId: admin.name(`kafka-replay-e2e-${randomUUID()}`) });
  const found: { key: string; value: string; headers: Record<string, string> }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: admin.name(topic), fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fewer than ${count} records in ${topic}`)), 20_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          found.push({
            key: message.key?.toString() ?? '',
            value: message.value?.toString() ?? '',
            headers: readHeaders(message.headers),
          });
          if (found.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    return found.slice(0, count);
  } finally {
    await consumer.disconnect();
  }
}

const readDeadLetterTopic = (count: number) => readTopic(Topics.orderEventsDeadLetters, count);
