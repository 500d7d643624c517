import { http } from './http.js';
import { TEST_KEYS_DIR } from './tokens.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { SERVICES, type ServiceName } from '@am/messaging';
import { testEnv, type TestEnv } from './test-env.js';
import { waitFor } from './wait-for.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** A service running as a real child process (built code from `dist`), with its output kept for failures. */
export class ServiceProcess<S extends ServiceName | 'console' = ServiceName> {
  private child?: ChildProcess;
  private readonly output: string[] = [];

  /** `root`: the checkout whose built service runs (another one's, to measure a change against it). */
  constructor(
    readonly service: S,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly root: string = repoRoot,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** True while the process is alive. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** How many messages this process has handled from `source` (a queue, or a topic), from its own /metrics. */
  async consumed(source: string): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const escaped = source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const line = new RegExp(`^messages_consumed_total\\{[^}]*source="${escaped}"[^}]*\\} (\\d+)`, 'm');
    return Number(line.exec(text)?.[1] ?? 0);
  }

  /** A counter or gauge of this process's /metrics, summed over its label sets (0 when it has none). */
  async metric(name: string): Promise<number> {
    return sumOfMetric(await (await fetch(`${this.url}/metrics`)).text(), name);
  }

  /** The last lines the process wrote, for assertion messages. */
  logs(lines = 40): string {
    return this.output.slice(-lines).join('');
  }

  async start(timeoutMs = 30_000): Promise<this> {
    const entry = path.join(this.root, 'services', this.service, 'dist', 'main.js');
    const child = spawn(process.execPath, [entry], {
      env: { ...process.env, ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 500) this.output.splice(0, 100);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exited = false;
    child.once('exit', () => (exited = true));
    await waitFor(
      `${this.service} to become healthy on ${this.url}`,
      async () => {
        if (exited) throw new Error(`${this.service} exited during start:\n${this.logs()}`);
        const response = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(1_000) });
        return response.ok;
      },
      { timeoutMs, intervalMs: 200 },
    ).catch((error: Error) => {
      child.kill('SIGKILL');
      throw new Error(`${error.message}\n--- ${this.service} output ---\n${this.logs()}`);
    });
    return this;
  }

  /** Stops the process: SIGTERM (clean shutdown) by default, SIGKILL to simulate a crash. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

/** A metric's value in a Prometheus text exposition, summed over its label sets (0 when it is not there). */
export function sumOfMetric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.split(' ').at(-1)) || 0;
  }
  return sum;
}

/** The environment a service needs to join this test run's isolated world. */
export function serviceEnv(
  service: ServiceName,
  env: TestEnv = testEnv(),
  extra: Record<string, string> = {},
): Record<string, string> {
  const kafka = env.kafkaCredentials(service);
  return {
    RABBITMQ_URL: env.rabbitmqUrl(service),
    ...(env.rabbitmqNodes ? { RABBITMQ_CLUSTER_NODES: env.rabbitmqNodes } : {}),
    KAFKA_BROKERS: env.kafkaBrokers,
    KAFKA_PREFIX: env.kafkaPrefix,
    KAFKA_USERNAME: kafka.username,
    KAFKA_PASSWORD: kafka.password,
    DATABASE_URL: env.databaseUrl(service),
    RETRY_DELAYS_MS: '100,200,400',
    // One client address sending thousands of requests on purpose: no rate limit (the limiter's own test sets one).
    RATE_LIMIT: 'off',
    LOG_LEVEL: 'warn',
    // The clone's token keys: the tests sign with the private key (tokens.ts), the services verify.
    AUTH_KEYS_DIR: TEST_KEYS_DIR,
    // The run's own SMTP sink (started by the global setup), or a closed port: never a developer's sink.
    ...(service === 'email' ? { SMTP_URL: process.env.TEST_SMTP_URL ?? 'smtp://127.0.0.1:9' } : {}),
    ...extra,
  };
}

/**
 * Starts services on free ports, in parallel: of this test run, or of a world of the test's own (`provisionWorld`)
 * when it sends what the run's other files must not see.
 */
export async function startServices(
  services: ServiceName[],
  extra: Partial<Record<ServiceName, Record<string, string>>> = {},
  env: TestEnv = testEnv(),
): Promise<Record<string, ServiceProcess>> {
  const started = await Promise.all(
    services.map(async (s) => new ServiceProcess(s, await freePort(), serviceEnv(s, env, extra[s])).start()),
  );
  return Object.fromEntries(started.map((p) => [p.service, p]));
}

/**
 * The six services of this run, orders' synchronous baseline wired to this run's inventory and payments (never to a
 * development stack's on 3002/3003); `extra` adds to a service's environment (e.g. `FAULTS_ALLOWED`).
 */
export async function startAllServices(
  extra: Partial<Record<ServiceName, Record<string, string>>> = {},
  env: TestEnv = testEnv(),
): Promise<Record<string, ServiceProcess>> {
  const others = await startServices(
    SERVICES.filter((s) => s !== 'orders'),
    extra,
    env,
  );
  const orders = await startServices(
    ['orders'],
    { orders: { ...extra.orders, INVENTORY_URL: others.inventory!.url, PAYMENTS_URL: others.payments!.url } },
    env,
  );
  return { ...others, ...orders };
}

/** A service's state for a failure message: its pid, whether it runs, its /health answer and its last log lines. */
export async function describeService(s: ServiceProcess): Promise<string> {
  const health = await http('GET', `${s.url}/health`).catch((error: Error) => ({ status: 0, body: error.message }));
  return (
    `--- ${s.service} (pid ${s.pid}, ${s.running ? 'running' : 'not running'}): ` +
    `/health ${health.status} ${JSON.stringify(health.body)}\n${s.logs(30)}`
  );
}

/**
 * The control room of this test run, reading the given services (their URLs) and this run's vhost through RabbitMQ's
 * management API as the `console` account. `port` may be given (a test that restarts it on the same address).
 */
export async function startConsole(
  services: Record<string, ServiceProcess>,
  extra: Record<string, string> = {},
  port?: number,
  env: TestEnv = testEnv(),
): Promise<ServiceProcess<'console'>> {
  const urls = Object.fromEntries(Object.values(services).map((s) => [`${s.service.toUpperCase()}_URL`, s.url]));
  return new ServiceProcess<'console'>('console', port ?? (await freePort()), {
    ...urls,
    RABBITMQ_MANAGEMENT_URL: env.admin.managementUrl,
    RABBITMQ_VHOST: env.vhost,
    AUTH_KEYS_DIR: TEST_KEYS_DIR,
    RATE_LIMIT: 'off',
    LOG_LEVEL: 'warn',
    ...extra,
  }).start();
}
