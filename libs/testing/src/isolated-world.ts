import pg from 'pg';
import { KafkaClient, provisionKafka, provisionKafkaAcls, type ServiceName } from '@am/messaging';
import { testEnv, type TestEnv } from './test-env.js';

/** A corner of the test run's world that one test file has to itself. */
export interface IsolatedWorld {
  /** Kafka topic and group prefix, with every topic of the topology created. */
  kafkaPrefix: string;
  /** A new, empty database for the service, owned by its role. */
  databaseUrl: string;
  /** The environment to start the service with (on top of serviceEnv). */
  env: Record<string, string>;
}

/**
 * Topics and a database of its own for a test that counts exactly what it produced (a read model, a consumer
 * group's offsets): the run's shared topics carry events from the other test files. Removed with the run's
 * world by the global teardown (topics by the run's prefix, databases by the run's name prefix).
 */
export async function isolatedWorld(
  service: ServiceName,
  name: string,
  env: TestEnv = testEnv(),
): Promise<IsolatedWorld> {
  const kafkaPrefix = `${env.kafkaPrefix}${name}.`;
  const kafka = new KafkaClient({
    brokers: [env.kafkaBrokers],
    ...(env.kafkaTls ? { tls: env.kafkaTls } : {}),
    clientId: `isolated-${name}`,
    credentials: env.kafkaAdmin,
    prefix: kafkaPrefix,
  });
  await provisionKafka(kafka);
  await provisionKafkaAcls(kafka);
  await kafka.close();
  const database = `${env.database(service)}_${name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`;
  const admin = new pg.Client({ connectionString: env.postgresAdminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${database}" OWNER "${service}"`);
  } finally {
    await admin.end();
  }
  const databaseUrl = env.databaseUrl(service).replace(/\/[^/]+$/, `/${database}`);
  return { kafkaPrefix, databaseUrl, env: { KAFKA_PREFIX: kafkaPrefix, DATABASE_URL: databaseUrl } };
}
