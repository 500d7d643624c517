import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
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

  // An SMTP server for this run, so the email service never sends to a developer's sink or fails by default.
  const sink = await startSmtpSink();
  if (sink) process.env.TEST_SMTP_URL = sink.smtpUrl;

  return async () => {
    sink?.stop();
    await new RabbitManagement(env.admin).deleteVhost(env.vhost).catch(() => undefined);
    await deletePrefixedTopics(kafka).catch(() => undefined);
    const client = new pg.Client({ connectionString: env.postgresAdminUrl });
    await client.connect();
    try {
      // The six databases of the run, and any a test made for itself (see isolatedWorld).
      const { rows } = await client.query<{ datname: string }>(
        'SELECT datname FROM pg_database WHERE datname LIKE $1',
        [`t\\_${runId}\\_%`],
      );
      for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    } finally {
      await client.end();
    }
  };
}

const sinkProgram = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../services/email/dist/smtp-sink/smtp-sink.js',
);

/** Starts the email service's SMTP sink on free ports, if it is built. */
async function startSmtpSink(): Promise<{ smtpUrl: string; stop: () => void } | undefined> {
  if (!existsSync(sinkProgram)) return undefined;
  const child = spawn(process.execPath, [sinkProgram], {
    env: { ...process.env, SMTP_SINK_PORT: '0', SMTP_SINK_HTTP_PORT: '0' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const lines = createInterface({ input: child.stdout });
  const smtpUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the SMTP sink did not start within 10 s')), 10_000);
    lines.on('line', (line) => {
      const match = /"smtpUrl":"([^"]+)"/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
  });
  return { smtpUrl, stop: () => child.kill('SIGTERM') };
}
