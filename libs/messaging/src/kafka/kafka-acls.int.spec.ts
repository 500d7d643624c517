import { randomUUID } from 'node:crypto';
import kafkajs, { type Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderCancelled } from '@am/contracts';
import { isolatedWorld, testEnv } from '@am/testing';
import { SERVICES, Topics, replayTopic, topics, type ServiceName } from '../topology.js';
import { kafkaAcls, kafkaPrefixedGrants } from './kafka-acls.js';
import { KafkaClient, recordFor, type KafkaCredentials } from './kafka-client.js';
import { aclBinding, aclsUnderPrefix } from './kafka-provisioner.js';

// Kafka's authentication and authorization on the real broker (docs/security.md): each service principal logs in
// with its own password and can do exactly what the ACLs generated from the topology allow. The matrix runs in an
// isolated world (topics and ACLs of its own), so the forged records it writes reach no service of this run.
const env = testEnv();
let prefix = '';
let admin: KafkaClient;

beforeAll(async () => {
  ({ kafkaPrefix: prefix } = await isolatedWorld('orders', `acls-${randomUUID().slice(0, 8)}`));
  admin = new KafkaClient({ brokers: [env.kafkaBrokers], clientId: 'acls-admin', credentials: env.kafkaAdmin, prefix });
  // One record on every topic, for the consumers of the matrix to read.
  await admin.send(topics.map((t) => ({ topic: t.name, key: 'k', value: '{}', headers: {} })));
}, 60_000);

afterAll(async () => {
  await admin.close();
});

/**
 * A kafkajs instance logging in as `credentials` (or nobody), without retries: a refusal comes back at once. The
 * broker's error types that kafkajs only logs (a refused FindCoordinator becomes "coordinator not found") go into
 * `refusals`.
 */
function kafkaAs(credentials: KafkaCredentials | null, retries = 0, refusals: string[] = []): Kafka {
  return new kafkajs.Kafka({
    brokers: [env.kafkaBrokers],
    clientId: `acls-${credentials?.username ?? 'anonymous'}`,
    ...(credentials
      ? {
          sasl: { mechanism: 'scram-sha-256' as const, username: credentials.username, password: credentials.password },
        }
      : {}),
    connectionTimeout: 3_000,
    retry: { retries },
    logLevel: kafkajs.logLevel.DEBUG,
    logCreator: () => (entry) => {
      const type = (entry.log.error as { type?: string } | undefined)?.type;
      if (type?.endsWith('AUTHORIZATION_FAILED')) refusals.push(type);
    },
  });
}

/** 'allowed', or the broker's error type (TOPIC_AUTHORIZATION_FAILED, ...). */
async function outcome(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
    return 'allowed';
  } catch (error) {
    const e = error as { type?: string; name?: string; errors?: { type?: string }[]; cause?: { type?: string } };
    return e.type ?? e.errors?.[0]?.type ?? e.cause?.type ?? e.name ?? String(error);
  }
}

async function produceAs(service: ServiceName, topic: string): Promise<string> {
  const producer = kafkaAs(env.kafkaCredentials(service)).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    return await outcome(() =>
      producer.send({ topic: `${prefix}${topic}`, acks: -1, messages: [{ key: 'k', value: '{"forged":true}' }] }),
    );
  } finally {
    await producer.disconnect();
  }
}

/** Joins `group` as `service` and reads `topic` from the start: 'allowed' once a record arrives. */
async function consumeAs(service: ServiceName, topic: string, group: string): Promise<string> {
  const refusals: string[] = [];
  const consumer = kafkaAs(env.kafkaCredentials(service), 0, refusals).consumer({
    groupId: `${prefix}${group}`,
    allowAutoTopicCreation: false,
    retry: { retries: 0, restartOnFailure: async () => false },
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
  });
  try {
    const result = await outcome(async () => {
      await consumer.connect();
      await consumer.subscribe({ topic: `${prefix}${topic}`, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error));
        void consumer.run({ eachMessage: async () => resolve() }).catch(reject);
      });
    });
    return result === 'allowed' ? result : (refusals[0] ?? result);
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

describe('Kafka authentication', () => {
  it('refuses a client that does not log in', async () => {
    const anonymous = kafkaAs(null).admin();
    expect(await outcome(() => anonymous.connect().then(() => anonymous.listTopics()))).not.toBe('allowed');
    await anonymous.disconnect();
  });

  it('refuses a service name with a wrong password', async () => {
    const impostor = kafkaAs({ username: 'orders', password: 'guessed' }).admin();
    expect(await outcome(() => impostor.connect())).toBe('KafkaJSSASLAuthenticationError');
    await impostor.disconnect();
  });
});

describe('Kafka ACLs of the service principals (generated from the topology, tried on the broker)', () => {
  it.each(SERVICES)('%s produces to exactly the topics it is a producer of', async (service) => {
    const tried = Object.fromEntries(
      await Promise.all(topics.map(async (t) => [t.name, await produceAs(service, t.name)] as const)),
    );
    const expected = Object.fromEntries(
      topics.map((t) => [t.name, t.producers.includes(service) ? 'allowed' : 'TOPIC_AUTHORIZATION_FAILED']),
    );
    expect(tried).toEqual(expected);
  });

  it.each(SERVICES)(
    '%s reads exactly the topics of its own consumer groups, in those groups',
    async (service) => {
      const groups = topics.flatMap((t) => t.groups.map((g) => ({ topic: t.name, ...g })));
      const tried: Record<string, string> = {};
      const expected: Record<string, string> = {};
      for (const { topic, groupId, consumer } of groups) {
        tried[`${topic} as ${groupId}`] = await consumeAs(service, topic, groupId);
        // A topic the service may describe (it writes it, or reads it in another group): the group is refused;
        // any other topic: the topic.
        const spec = topics.find((t) => t.name === topic)!;
        const describes = spec.producers.includes(service) || spec.groups.some((g) => g.consumer === service);
        expected[`${topic} as ${groupId}`] =
          consumer === service ? 'allowed' : describes ? 'GROUP_AUTHORIZATION_FAILED' : 'TOPIC_AUTHORIZATION_FAILED';
      }
      // A group of its own choosing on a topic it may read: refused (only the topology's groups are granted).
      const readable = groups.find((g) => g.consumer === service);
      if (readable) {
        tried['own topic, made-up group'] = await consumeAs(service, readable.topic, `made-up-${randomUUID()}`);
        expected['own topic, made-up group'] = 'GROUP_AUTHORIZATION_FAILED';
      }
      expect(tried).toEqual(expected);
    },
    120_000,
  );

  it("keeps each replay topic to audit (write) and its own group (read): no group reads another's replays", async () => {
    const auditReplays = replayTopic(Topics.orderEvents, 'audit');
    const emailReplays = replayTopic(Topics.orderEvents, 'order-notifications');
    expect({
      'audit writes the email group replay topic': await produceAs('audit', emailReplays),
      'email writes its own replay topic': await produceAs('email', emailReplays),
      'orders writes a replay topic': await produceAs('orders', auditReplays),
      'email reads its replay topic in its group': await consumeAs('email', emailReplays, 'order-notifications'),
      "email reads audit's replay topic in its own group": await consumeAs(
        'email',
        auditReplays,
        'order-notifications',
      ),
      "analytics reads email's replay topic in its group": await consumeAs('analytics', emailReplays, 'analytics'),
    }).toEqual({
      'audit writes the email group replay topic': 'allowed',
      'email writes its own replay topic': 'TOPIC_AUTHORIZATION_FAILED',
      'orders writes a replay topic': 'TOPIC_AUTHORIZATION_FAILED',
      'email reads its replay topic in its group': 'allowed',
      "email reads audit's replay topic in its own group": 'TOPIC_AUTHORIZATION_FAILED',
      "analytics reads email's replay topic in its group": 'TOPIC_AUTHORIZATION_FAILED',
    });
  }, 60_000);

  it.each(SERVICES)('%s can neither create nor delete topics', async (service) => {
    const kafka = kafkaAs(env.kafkaCredentials(service)).admin();
    await kafka.connect();
    try {
      const created = await outcome(() => kafka.createTopics({ topics: [{ topic: `${prefix}new-${service}` }] }));
      const deleted = await outcome(() => kafka.deleteTopics({ topics: [`${prefix}${Topics.orderEvents}`] }));
      expect({ created, deleted }).toEqual({
        created: expect.not.stringMatching(/^allowed$/),
        deleted: 'TOPIC_AUTHORIZATION_FAILED',
      });
    } finally {
      await kafka.disconnect();
    }
  });

  it('lets only analytics open a transaction, under its own transactional-id prefix', async () => {
    const grant = kafkaPrefixedGrants.find((g) => g.resource === 'transactional-id')!;
    const begin = async (service: ServiceName, id: string) => {
      // An idempotent producer must allow retries (kafkajs); an authorization failure is not retried anyway.
      const refusals: string[] = [];
      const producer = kafkaAs(env.kafkaCredentials(service), 2, refusals).producer({
        transactionalId: `${prefix}${id}`,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      try {
        const result = await outcome(async () => {
          await producer.connect();
          const transaction = await producer.transaction();
          await transaction.abort();
        });
        return result === 'allowed' ? result : (refusals[0] ?? result);
      } finally {
        await producer.disconnect().catch(() => undefined);
      }
    };
    expect({
      analytics: await begin('analytics', `${grant.prefix}test`),
      'analytics, another id': await begin('analytics', 'orders-outbox'),
      orders: await begin('orders', `${grant.prefix}test`),
    }).toEqual({
      analytics: 'allowed',
      'analytics, another id': 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
      orders: 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
    });
  });

  it('refuses the forged order-events record of the attack (an "order cancelled" sent as another service)', async () => {
    const forged = OrderCancelled.create(
      { orderId: randomUUID(), userId: randomUUID(), total: 1, reason: 'payment_failed' },
      { correlationId: randomUUID() },
    );
    const record = recordFor(`${prefix}${Topics.orderEvents}`, forged.data.orderId, forged);
    const refusals: Record<string, string> = {};
    for (const service of SERVICES.filter((s) => s !== 'orders')) {
      const producer = kafkaAs(env.kafkaCredentials(service)).producer({ allowAutoTopicCreation: false });
      await producer.connect();
      refusals[service] = await outcome(() =>
        producer.send({
          topic: record.topic,
          acks: -1,
          messages: [{ key: record.key, value: record.value, headers: record.headers }],
        }),
      );
      await producer.disconnect();
    }
    expect(new Set(Object.values(refusals))).toEqual(new Set(['TOPIC_AUTHORIZATION_FAILED']));
  });

  it('is the set of ACLs the provisioner granted for this prefix, nothing more', async () => {
    const kafka = admin.admin();
    await kafka.connect();
    try {
      const line = (b: Awaited<ReturnType<typeof aclsUnderPrefix>>[number]) =>
        `${b.principal} ${b.permissionType} ${b.operation} ${b.resourceType} ${b.resourcePatternType} ${b.resourceName}`;
      const granted = (await aclsUnderPrefix(kafka, prefix)).map(line).sort();
      const expected = kafkaAcls(prefix).map(aclBinding).map(line).sort();
      expect(granted).toEqual(expected);
    } finally {
      await kafka.disconnect();
    }
  });
});
