import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureAuthKeys } from '@am/messaging';
import { provisionWorld } from './provision-world.js';
import { TEST_KEYS_DIR } from './tokens.js';
import { newRunId, testEnv } from './test-env.js';

/**
 * Vitest global setup of the tiers that talk to real brokers: creates this run's vhost with the whole
 * topology, its Kafka topics and one database per service; the returned teardown removes all of it.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const runId = newRunId();
  process.env.TEST_RUN_ID = runId;
  const world = await provisionWorld(testEnv(runId));
  // The token keys, before any service of the run starts (every one verifies with the public key).
  ensureAuthKeys(TEST_KEYS_DIR);

  // An SMTP server for this run, so the email service never sends to a developer's sink or fails by default.
  const sink = await startSmtpSink();
  if (sink) {
    process.env.TEST_SMTP_URL = sink.smtpUrl;
    process.env.TEST_SMTP_API_URL = sink.apiUrl;
  }

  return async () => {
    sink?.stop();
    await world.teardown();
  };
}

const sinkProgram = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../services/email/dist/smtp-sink/smtp-sink.js',
);

/** Starts the email service's SMTP sink on free ports, if it is built. */
async function startSmtpSink(): Promise<{ smtpUrl: string; apiUrl: string; stop: () => void } | undefined> {
  if (!existsSync(sinkProgram)) return undefined;
  const child = spawn(process.execPath, [sinkProgram], {
    env: { ...process.env, SMTP_SINK_PORT: '0', SMTP_SINK_HTTP_PORT: '0' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const lines = createInterface({ input: child.stdout });
  const { smtpUrl, apiUrl } = await new Promise<{ smtpUrl: string; apiUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the SMTP sink did not start within 10 s')), 10_000);
    lines.on('line', (line) => {
      if (!line.includes('"smtpUrl"')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as { smtpUrl: string; apiUrl: string });
    });
  });
  return { smtpUrl, apiUrl, stop: () => child.kill('SIGTERM') };
}
