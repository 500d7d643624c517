import { randomBytes } from 'node:crypto';
import {
  SERVICES,
  nativePassword,
  kafkaAdminCredentials,
  readMachineSecret,
  type KafkaCredentials,
  type ServiceName,
} from '@am/messaging';

/**
 * The isolated world of one test run: its own RabbitMQ vhost, Kafka topic/group prefix and one database per
 * service, so tests never touch a development stack running beside them, and runs never touch each other.
 * The run id travels to test files (and to the services they start) through TEST_RUN_ID.
 */
export interface TestEnv {
  runId: string;
  vhost: string;
  kafkaPrefix: string;
  /** Comma-separated, `host:port,host:port` for a cluster. */
  kafkaBrokers: string;
  /**
   * The RabbitMQ nodes of a cluster (`host:port,...`, RABBITMQ_CLUSTER_NODES), which services started in this world
   * fail over between; absent on a single node.
   */
  rabbitmqNodes?: string;
  /** TLS to Kafka (the container tier's brokers speak SASL_SSL only); plain SASL when absent. */
  kafkaTls?: { ca?: string };
  /** The Kafka admin principal (provisioning, the tests' own producers and consumers). */
  kafkaAdmin: KafkaCredentials;
  /** A service's own Kafka principal, with only the ACLs the topology grants it. */
  kafkaCredentials(service: ServiceName): KafkaCredentials;
  database(service: ServiceName): string;
  databaseUrl(service: ServiceName): string;
  rabbitmqUrl(service: ServiceName): string;
  adminAmqpUrl: string;
  admin: { managementUrl: string; user: string; password: string };
  postgresAdminUrl: string;
}

export function newRunId(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export function testEnv(runId = process.env.TEST_RUN_ID): TestEnv {
  if (!runId) throw new Error('TEST_RUN_ID is not set: run the tests through vitest (its global setup sets it)');
  const env = process.env;
  const host = env.TEST_HOST ?? '127.0.0.1';
  const admin = {
    managementUrl: env.RABBITMQ_MANAGEMENT_URL ?? `http://${host}:15672`,
    user: env.RABBITMQ_ADMIN_USER ?? 'messaging-admin',
    password: env.RABBITMQ_ADMIN_PASSWORD ?? nativePassword('rabbitmq', 'messaging-admin', env),
  };
  const vhost = `test-${runId}`;
  const database = (service: ServiceName) => `t_${runId}_${service}`;
  return {
    runId,
    vhost,
    kafkaPrefix: `test-${runId}.`,
    kafkaBrokers: env.KAFKA_BROKERS ?? `${host}:9092`,
    kafkaAdmin: kafkaAdminCredentials(env),
    kafkaCredentials: (s) => ({
      username: s,
      password: env[`${s.toUpperCase()}_KAFKA_PASSWORD`] || readMachineSecret(`kafka-${s}`, env),
    }),
    database,
    databaseUrl: (s) => `postgres://${s}:${nativePassword('postgres', s, env)}@${host}:5432/${database(s)}`,
    rabbitmqUrl: (s) => `amqp://${s}:${nativePassword('rabbitmq', s, env)}@${host}:5672/${encodeURIComponent(vhost)}`,
    adminAmqpUrl: `amqp://${admin.user}:${admin.password}@${host}:5672/${encodeURIComponent(vhost)}`,
    admin,
    postgresAdminUrl: env.POSTGRES_ADMIN_URL ?? `postgres://postgres@${host}:5432/postgres`,
  };
}

export { SERVICES };
