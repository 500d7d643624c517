import { execFile, spawn } from 'node:child_process';
import { openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { promisify } from 'node:util';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Restarts the RabbitMQ application on this machine (the node stays up; connections drop; durable state stays). */
export async function restartRabbitMq(): Promise<void> {
  await run('rabbitmqctl', ['stop_app'], { timeout: 60_000 });
  await run('rabbitmqctl', ['start_app'], { timeout: 120_000 });
  await run('rabbitmqctl', ['await_startup'], { timeout: 120_000 });
}

/** The version and name of the machine's PostgreSQL cluster (Debian's `pg_lsclusters`). */
async function postgresCluster(): Promise<[string, string]> {
  const { stdout } = await run('pg_lsclusters', ['--no-header']);
  const [version, cluster] = stdout.trim().split(/\s+/);
  return [version!, cluster!];
}

/** Stops PostgreSQL (fast shutdown: every connection of every service is terminated). */
export async function stopPostgres(): Promise<void> {
  const [version, cluster] = await postgresCluster();
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, cluster, 'stop', '-m', 'fast'], {
    timeout: 120_000,
  });
  await waitFor('PostgreSQL to stop listening', async () => !(await portOpen(5432)), { timeoutMs: 60_000 });
}

/** Starts PostgreSQL again after `stopPostgres` and waits until it accepts connections. */
export async function startPostgres(): Promise<void> {
  const [version, cluster] = await postgresCluster();
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, cluster, 'start'], { timeout: 120_000 });
  await waitFor('PostgreSQL to accept connections', () => portOpen(5432), { timeoutMs: 60_000 });
}

/** Restarts PostgreSQL: every connection of every service is dropped. */
export async function restartPostgres(): Promise<void> {
  const { stdout } = await run('pg_lsclusters', ['--no-header']);
  const [version, cluster] = stdout.trim().split(/\s+/);
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version!, cluster!, 'restart'], { timeout: 120_000 });
  await waitFor('PostgreSQL to accept connections', () => portOpen(5432), { timeoutMs: 60_000 });
}

/**
 * Restarts the Kafka broker listening on `port`, whichever checkout started it: SIGTERM (a clean shutdown), then
 * the same command line in the same directory, detached. Returns once the port answers again.
 */
export async function restartKafka(port = 9092): Promise<void> {
  const { stdout } = await run('ss', ['-ltnpH', `( sport = :${port} )`]);
  const pid = /pid=(\d+)/.exec(stdout)?.[1];
  if (!pid) throw new Error(`no process listens on ${port}`);
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const cwd = readlinkSync(`/proc/${pid}/cwd`);
  if (!argv.includes('kafka.Kafka')) throw new Error(`the process on ${port} is not a Kafka broker: ${argv.join(' ')}`);
  const logFile = argv.find((a) => a.startsWith('-Dkafka.logs.dir='))?.split('=')[1];
  process.kill(Number(pid), 'SIGTERM');
  await waitFor('the Kafka broker to stop', async () => !(await portOpen(port)), {
    timeoutMs: 60_000,
    intervalMs: 200,
  });
  await waitFor(
    'the old Kafka process to exit',
    () => {
      try {
        process.kill(Number(pid), 0);
        return false;
      } catch {
        return true;
      }
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  const out = logFile ? openSync(`${logFile}/server.log`, 'a') : 'ignore';
  const child = spawn(argv[0]!, argv.slice(1), { cwd, detached: true, stdio: ['ignore', out, out] });
  child.unref();
  // Keep infra/status and infra/down pointing at the new process.
  if (logFile) {
    try {
      writeFileSync(`${logFile}/kafka.pid`, `${child.pid}\n`);
    } catch {
      // not started by infra/up: nothing to keep in step
    }
  }
  await waitFor('Kafka to listen again', () => portOpen(port), { timeoutMs: 90_000, intervalMs: 250 });
}
