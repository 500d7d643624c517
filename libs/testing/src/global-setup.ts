import pg from 'pg';
import {
  KafkaClient,
  RabbitManagement,
  SERVICES,
  deletePrefixedTopics,
  devPassword,
  provisionKafka,
  provisionRabbit,
  type ServiceName,
} from '@am/messaging';
import { newRunId, testEnv } from './test-env.js';

/**
 * Vitest global setup of the tiers that talk to real brokers: creates this run's vhost with the whole
 * topology, its Kafka topics and one database per service; the returned teardown removes all of it.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const runId = newRunId();
  process.env.TEST_RUN_ID = runId;
  const env = testEnv(runId);
  const passwords = Object.fromEntries(SERVICES.map((s) => [s, devPassword(s)])) as Record<ServiceName, string>;
  await provisionRabbit(env.admin, { vhost: env.vhost, passwords }).catch((error: Error) => {
    throw new Error(`cannot provision RabbitMQ for the tests (is the stack up? run infra/up): ${error.message}`);
  });
  const kafka = new KafkaClient({ brokers: [env.kafkaBrokers], clientId: 'test-setup', prefix: env.kafkaPrefix });
  await provisionKafka(kafka);
  const admin = new pg.Client({ connectionString: env.postgresAdminUrl });
  await admin.connect();
  try {
    for (const service of SERVICES) {
      await admin.query(`CREATE DATABASE "${env.database(service)}" OWNER "${service}"`);
    }
  } finally {
    await admin.end();
  }

  return async () => {
    await new RabbitManagement(env.admin).deleteVhost(env.vhost).catch(() => undefined);
    await deletePrefixedTopics(kafka).catch(() => undefined);
    const client = new pg.Client({ connectionString: env.postgresAdminUrl });
    await client.connect();
    try {
      for (const service of SERVICES) {
        await client.query(`DROP DATABASE IF EXISTS "${env.database(service)}" WITH (FORCE)`);
      }
    } finally {
      await client.end();
    }
  };
}
