import pg from 'pg';
import {
  KafkaClient,
  RabbitManagement,
  SERVICES,
  deletePrefixedTopics,
  nativePassword,
  provisionKafka,
  provisionKafkaAcls,
  provisionRabbit,
  CONSOLE_USER,
  type QueueType,
  type ServiceName,
} from '@am/messaging';
import type { TestEnv } from './test-env.js';

export interface ProvisionOptions {
  /** Extra queue arguments by policy (a tighter or looser `max-length` on `order-processing`, say). */
  queuePolicies?: Record<string, Record<string, unknown>>;
  /** `quorum` on a RabbitMQ cluster (docs/clusters.md); classic by default. */
  queueType?: QueueType;
  /** The topics' replication factor: 3 on a Kafka cluster (with min.insync.replicas 2); 1 by default. */
  replicationFactor?: number;
}

/** A provisioned world and the way to remove it again. */
export interface ProvisionedWorld {
  kafka: KafkaClient;
  /** Removes the vhost, the topics and the databases (also those a test made with isolatedWorld); never throws. */
  teardown(): Promise<void>;
}

const escapeLike = (text: string) => text.replace(/[\\_%]/g, (c) => `\\${c}`);

/**
 * Creates an isolated world for a test run, an experiment or a benchmark: a RabbitMQ vhost with the whole topology
 * and the service users, the Kafka topics under the env's prefix, and one database per service owned by its role.
 */
export async function provisionWorld(env: TestEnv, options: ProvisionOptions = {}): Promise<ProvisionedWorld> {
  const passwords = Object.fromEntries(SERVICES.map((s) => [s, nativePassword('rabbitmq', s)])) as Record<
    ServiceName,
    string
  >;
  await provisionRabbit(env.admin, {
    vhost: env.vhost,
    passwords,
    // The control room's statistics account, so a test console can read this world's queues.
    consolePassword: nativePassword('rabbitmq', CONSOLE_USER),
    ...(options.queuePolicies ? { queuePolicies: options.queuePolicies } : {}),
    ...(options.queueType ? { queueType: options.queueType } : {}),
  }).catch((error: Error) => {
    throw new Error(`cannot provision RabbitMQ (is the stack up? run infra/up): ${error.message}`);
  });
  const kafka = new KafkaClient({
    brokers: env.kafkaBrokers.split(',').map((b) => b.trim()),
    ...(env.kafkaTls ? { tls: env.kafkaTls } : {}),
    clientId: `world-${env.runId}`,
    credentials: env.kafkaAdmin,
    prefix: env.kafkaPrefix,
  });
  await provisionKafka(kafka, { replicationFactor: options.replicationFactor ?? 1 });
  await provisionKafkaAcls(kafka);
  await asPostgresAdmin(env, async (client) => {
    for (const service of SERVICES) await client.query(`CREATE DATABASE "${env.database(service)}" OWNER "${service}"`);
  });

  return {
    kafka,
    async teardown() {
      await new RabbitManagement(env.admin).deleteVhost(env.vhost).catch(() => undefined);
      await deletePrefixedTopics(kafka).catch(() => undefined);
      await kafka.close().catch(() => undefined);
      await asPostgresAdmin(env, async (client) => {
        for (const service of SERVICES) {
          const name = env.database(service);
          const { rows } = await client.query<{ datname: string }>(
            'SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2',
            [name, `${escapeLike(name)}\\_%`],
          );
          for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
        }
      }).catch(() => undefined);
    },
  };
}

async function asPostgresAdmin(env: TestEnv, work: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: env.postgresAdminUrl });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
