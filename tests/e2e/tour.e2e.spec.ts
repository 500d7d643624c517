import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES } from '@am/messaging';
import { TEST_KEYS_DIR, freePort, serviceEnv, testEnv } from '@am/testing';
import { missingLines, tourBlocks } from './tour.js';

// The guided tour (docs/tour.md) as a test: every command of the page, in order, in one bash session, the way a
// reader runs them, and each output compared with the block the page shows below it. The services are this run's
// own, started and stopped by the tour's own commands (`./stack start|stop`), on ports and with an environment
// (vhost, topic prefix, databases, token keys) that `./stack` reads from STACK_PORTS and STACK_ENV_DIR: a
// development stack on the usual ports is left alone.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const blocks = tourBlocks(readFileSync(path.join(root, 'docs/tour.md'), 'utf8')).filter((b) => !b.notRun);
const NAMES = [...SERVICES, 'console'] as const;
const env = testEnv();
const work = mkdtempSync(path.join(tmpdir(), 'tour-'));
let shellEnv: NodeJS.ProcessEnv;
let shell: ChildProcessWithoutNullStreams;
let output = '';
let shellExited = false;

const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** Runs `./stack ARGS` with the tour's environment (outside the tour's shell: set-up and clean-up). */
function stack(args: string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['./stack', ...args], { cwd: root, env: shellEnv });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(text);
      else reject(new Error(`./stack ${args.join(' ')} exited with ${code}:\n${text}`));
    });
  });
}

/** Runs one block in the tour's shell and returns what it printed, and the exit status of its last command. */
function run(command: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  const marker = `@@tour-${Math.random().toString(36).slice(2)}`;
  const start = output.length;
  shell.stdin.write(`{\n${command}\n} 2>&1; echo "${marker} $?"\n`);
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = setInterval(() => {
      const text = output.slice(start);
      const done = new RegExp(`${marker} (\\d+)\\n`).exec(text);
      if (done) {
        clearInterval(poll);
        resolve({ status: Number(done[1]), text: text.slice(0, done.index) });
      } else if (shellExited || Date.now() > deadline) {
        clearInterval(poll);
        reject(new Error(`${shellExited ? 'the shell exited' : `no end after ${timeoutMs} ms`}; so far:\n${text}`));
      }
    }, 100);
  });
}

beforeAll(async () => {
  const ports = Object.fromEntries(
    await Promise.all([...NAMES, 'orders-2'].map(async (name) => [name, await freePort()] as const)),
  );
  const url = (name: string) => `http://127.0.0.1:${ports[name]}`;
  mkdirSync(path.join(work, 'env'));
  const files: Record<string, Record<string, string>> = Object.fromEntries(
    SERVICES.map((s) => [s, serviceEnv(s, env, { HOST: '127.0.0.1' })]),
  );
  // A shorter saga deadline, so stop 9's timeout comes in seconds (longer than stop 1's inventory restart, which the
  // saga must outlast); orders' synchronous baseline to this run's services.
  Object.assign(files.orders!, {
    SAGA_STEP_TIMEOUT_MS: '15000',
    INVENTORY_URL: url('inventory'),
    PAYMENTS_URL: url('payments'),
  });
  files.console = {
    ...Object.fromEntries(SERVICES.map((s) => [`${s.toUpperCase()}_URL`, url(s)])),
    RABBITMQ_MANAGEMENT_URL: env.admin.managementUrl,
    RABBITMQ_VHOST: env.vhost,
    AUTH_KEYS_DIR: TEST_KEYS_DIR,
    RATE_LIMIT: 'off',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
  };
  for (const [name, vars] of Object.entries(files)) {
    const lines = Object.entries(vars).map(([key, value]) => `${key}=${quote(value)}`);
    writeFileSync(path.join(work, 'env', `${name}.env`), `${lines.join('\n')}\n`, { mode: 0o600 });
  }
  shellEnv = {
    ...process.env,
    PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`,
    STACK_RUN_DIR: path.join(work, 'run'),
    STACK_ENV_DIR: path.join(work, 'env'),
    STACK_PORTS: Object.entries(ports)
      .map(([name, port]) => `${name}=${port}`)
      .join(' '),
    AUTH_KEYS_DIR: TEST_KEYS_DIR,
    SMTP_SINK_URL: process.env.TEST_SMTP_API_URL ?? 'http://127.0.0.1:9',
    RABBITMQ_ADMIN_URL: env.adminAmqpUrl,
    // For scripts/read-topic.mjs: this run's topics, read as Kafka's administrator.
    KAFKA_BROKERS: env.kafkaBrokers,
    KAFKA_PREFIX: env.kafkaPrefix,
    KAFKA_ADMIN_USERNAME: env.kafkaAdmin.username,
    KAFKA_ADMIN_PASSWORD: env.kafkaAdmin.password,
  };
  mkdirSync(path.join(work, 'run'));
  // What `./stack up` does after the infrastructure, the build and the topology (the run has those already).
  await stack(['start', ...NAMES]);
  shell = spawn('bash', ['--noprofile', '--norc'], { cwd: root, env: shellEnv });
  shell.stdout.on('data', (d: Buffer) => (output += d.toString()));
  shell.stderr.on('data', (d: Buffer) => (output += d.toString()));
  shell.on('exit', () => (shellExited = true));
}, 180_000);

afterAll(async () => {
  shell?.stdin.end();
  shell?.kill();
  if (shellEnv) await stack(['stop', ...NAMES, 'orders-2']).catch((error: Error) => console.error(error.message));
  rmSync(work, { recursive: true, force: true });
}, 120_000);

describe('the guided tour (docs/tour.md), every command as the page shows it', () => {
  for (const block of blocks) {
    it(`${block.stop} (line ${block.line})`, async () => {
      const { status, text } = await run(block.command, 170_000);
      const where = `docs/tour.md:${block.line}\n$ ${block.command}\n--- output ---\n${text}`;
      expect(status, where).toBe(0);
      expect(missingLines(block.expected, text), where).toEqual([]);
    }, 180_000);
  }
});
