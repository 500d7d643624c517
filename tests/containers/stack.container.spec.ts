import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { KafkaClient, SERVICES, silentLogger, type ServiceName } from '@am/messaging';
import {
  awaitInvariants,
  http,
  operatorToken,
  persistently,
  pool,
  query,
  seed,
  settle,
  waitFor,
  type TestEnv,
} from '@am/testing';

// The container tier: the stack of docker-compose.yml running in containers (started by `./stack containers test`,
// which sets the variables read here), driven from the host over 127.0.0.1 only, as a user of `docker compose up`
// would drive it.
const port = (name: string) => {
  const value = process.env[`${name}_HOST_PORT`];
  if (!value) throw new Error(`${name}_HOST_PORT is not set: run this tier with ./stack containers test`);
  return Number(value);
};
const project = process.env.CONTAINER_PROJECT ?? 'async-messaging';
const ports: Record<ServiceName, number> = {
  orders: port('ORDERS'),
  inventory: port('INVENTORY'),
  payments: port('PAYMENTS'),
  email: port('EMAIL'),
  analytics: port('ANALYTICS'),
  audit: port('AUDIT'),
};
const url = (s: ServiceName) => `http://127.0.0.1:${ports[s]}`;
const urls = { orders: url('orders'), inventory: url('inventory'), payments: url('payments') };
/** The control room (services/console). */
const consoleUrl = `http://127.0.0.1:${port('CONSOLE')}`;

/** The stack's passwords: the .env file scripts/containers.sh wrote with scripts/compose-env.sh for this run. */
const requiredEnv = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this tier with ./stack containers test`);
  return value;
};
const envFile = requiredEnv('CONTAINER_ENV_FILE');
const secrets = Object.fromEntries(
  readFileSync(envFile, 'utf8')
    .split('\n')
    .flatMap((line) =>
      /^[A-Z0-9_]+=/.test(line) ? [[line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]] : [],
    ),
) as Record<string, string>;
const secret = (name: string) => {
  const value = secrets[name];
  if (!value) throw new Error(`${envFile} has no ${name}`);
  return value;
};
const upper = (s: ServiceName) => s.toUpperCase();

/** The containerised stack seen from the host: its databases and broker on their moved ports, the run's passwords. */
const stack: TestEnv = {
  runId: 'containers',
  vhost: 'messaging',
  kafkaPrefix: '',
  kafkaBrokers: `127.0.0.1:${port('KAFKA')}`,
  // Both brokers speak TLS only: the CA the stack's tls-certs job made (NODE_EXTRA_CA_CERTS, set by
  // scripts/containers.sh, adds it to what amqplib's amqps connections trust as well).
  kafkaTls: { ca: readFileSync(requiredEnv('CONTAINER_CA_FILE'), 'utf8') },
  kafkaAdmin: { username: 'messaging-admin', password: secret('KAFKA_ADMIN_PASSWORD') },
  kafkaCredentials: (s) => ({ username: s, password: secret(`${upper(s)}_KAFKA_PASSWORD`) }),
  database: (s) => s,
  databaseUrl: (s) => `postgres://${s}:${secret(`${upper(s)}_DB_PASSWORD`)}@127.0.0.1:${port('POSTGRES')}/${s}`,
  rabbitmqUrl: (s) => `amqps://${s}:${secret(`${upper(s)}_RABBITMQ_PASSWORD`)}@127.0.0.1:${port('RABBITMQ')}/messaging`,
  adminAmqpUrl: `amqps://messaging-admin:${secret('RABBITMQ_ADMIN_PASSWORD')}@127.0.0.1:${port('RABBITMQ')}/messaging`,
  admin: {
    managementUrl: `http://127.0.0.1:${port('RABBITMQ_MANAGEMENT')}`,
    user: 'messaging-admin',
    password: secret('RABBITMQ_ADMIN_PASSWORD'),
  },
  postgresAdminUrl: `postgres://postgres:${secret('POSTGRES_PASSWORD')}@127.0.0.1:${port('POSTGRES')}/postgres`,
};

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const container = (service: string) => `${project}_${service}_1`;

interface Order {
  status: string;
  reason?: string;
}

describe('the stack in containers (docker-compose.yml)', () => {
  it('bakes no credential into the images: no private key, .env or token key file in the application', () => {
    for (const image of [
      ...[...SERVICES, 'console'].map((s) => `async-messaging/${s}:dev`),
      'async-messaging/auth-keys:dev',
    ]) {
      // The application's own files (the dependencies are npm's published packages, not the project's secrets).
      const found = docker(
        'run',
        '--rm',
        '--entrypoint',
        'sh',
        image,
        '-c',
        "cd /app && { find . -path ./node_modules -prune -o \\( -name '*.pem' -o -name '.env' -o -name '*.key' \\) -print; " +
          "grep -rlE 'BEGIN (RSA |EC |OPENSSH )?PRIVATE KEY' --exclude-dir=node_modules . ; " +
          'find /var/lib/async-messaging/auth -type f; } 2>/dev/null || true',
      );
      expect(found, image).toBe('');
    }
  });

  it("takes every password from .env: compose refuses to start without one, the broker accepts only .env's", async () => {
    // The compose file scripts/containers.sh runs (docker-compose.yml without the `name:` compose 1.29 rejects).
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const dir = mkdtempSync(path.join(tmpdir(), 'compose-refuses-'));
    try {
      const partial = path.join(dir, '.env');
      writeFileSync(
        partial,
        readFileSync(envFile, 'utf8')
          .split('\n')
          .filter((line) => !line.startsWith('ORDERS_DB_PASSWORD='))
          .join('\n'),
      );
      const config = (file: string) =>
        execFileSync(
          'docker-compose',
          [
            '-p',
            'refuses',
            '--project-directory',
            root,
            '--env-file',
            file,
            '-f',
            '.run/containers/docker-compose.yml',
            'config',
            '-q',
          ],
          { cwd: root, stdio: 'pipe', encoding: 'utf8' },
        );
      expect(() => config(partial)).toThrow(/ORDERS_DB_PASSWORD is not set \(run \.\/stack compose-env\)/);
      expect(() => config(envFile)).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // RabbitMQ: the definitions its entrypoint rendered carry .env's passwords; a guessable one is refused.
    const amqpUrl = (user: string, password: string) =>
      `amqps://${user}:${password}@127.0.0.1:${port('RABBITMQ')}/messaging`;
    const connection = await amqp.connect(amqpUrl('orders', secret('ORDERS_RABBITMQ_PASSWORD')));
    await connection.close();
    await expect(amqp.connect(amqpUrl('orders', 'orders-dev'))).rejects.toThrow(/ACCESS_REFUSED|403/);
    await expect(amqp.connect(amqpUrl('guest', 'guest'))).rejects.toThrow(/ACCESS_REFUSED|403/);
    expect(
      docker(
        'exec',
        container('rabbitmq'),
        'sh',
        '-c',
        'grep -c password-hash: /etc/rabbitmq/definitions.json || true',
      ),
    ).toBe('0');
  });

  it('speaks TLS only to the brokers: every service connection is amqps, and plain AMQP and Kafka are refused', async () => {
    // What the broker reports of the services' connections (the management API, as the admin).
    const connections = await http<{ user: string; ssl: boolean; protocol: string }[]>(
      'GET',
      `${stack.admin.managementUrl}/api/connections`,
      undefined,
      { authorization: `Basic ${Buffer.from(`${stack.admin.user}:${stack.admin.password}`).toString('base64')}` },
    );
    expect(connections.status).toBe(200);
    const services = connections.body.filter((c) => (SERVICES as readonly string[]).includes(c.user));
    expect(new Set(services.map((c) => c.user))).toEqual(new Set(SERVICES));
    expect(
      services.every((c) => c.ssl),
      JSON.stringify(services),
    ).toBe(true);
    // Plain AMQP on the broker's port: no TLS handshake, no connection.
    await expect(
      amqp.connect(`amqp://orders:${secret('ORDERS_RABBITMQ_PASSWORD')}@127.0.0.1:${port('RABBITMQ')}/messaging`),
    ).rejects.toThrow();
    // Kafka without TLS: the SASL_SSL listener does not answer a plain client.
    const plain = new KafkaClient({
      brokers: [stack.kafkaBrokers],
      clientId: 'plain-client',
      credentials: stack.kafkaAdmin,
      logger: silentLogger,
    });
    const admin = plain.admin();
    await expect(admin.connect()).rejects.toThrow();
    const tls = new KafkaClient({
      brokers: [stack.kafkaBrokers],
      clientId: 'tls-client',
      credentials: stack.kafkaAdmin,
      tls: stack.kafkaTls!,
    }).admin();
    await tls.connect();
    expect(await tls.listTopics()).toContain('order-events');
    await tls.disconnect();
  });

  it('answers on 127.0.0.1 only, every service healthy and every container up', async () => {
    for (const s of SERVICES) {
      const health = await http<{ status: string }>('GET', `${url(s)}/health`);
      expect(health.status, `${s} /health`).toBe(200);
      expect(docker('inspect', '-f', '{{.State.Health.Status}}', container(s)), s).toBe('healthy');
      // Published on the host's loopback only.
      const bindings = docker('port', container(s));
      expect(
        bindings.split('\n').every((b) => b.includes('127.0.0.1:')),
        bindings,
      ).toBe(true);
    }
  });

  it('runs the control room: its page, its operator routes, and every source read (the broker as its own account)', async () => {
    // Healthy, published on loopback only, and reading every service and the broker within a few collections.
    expect(docker('inspect', '-f', '{{.State.Health.Status}}', container('console'))).toBe('healthy');
    const bindings = docker('port', container('console'));
    expect(
      bindings.split('\n').every((b) => b.includes('127.0.0.1:')),
      bindings,
    ).toBe(true);
    let last: unknown;
    const sources = await waitFor(
      'every source of the console to be up',
      async () => {
        const health = await http<{ status: string; details?: { collector?: Record<string, string> } }>(
          'GET',
          `${consoleUrl}/health`,
        );
        last = health.body;
        const collector = health.body.details?.collector ?? {};
        return health.status === 200 &&
          Object.keys(collector).length === SERVICES.length + 1 &&
          Object.values(collector).every((state) => state === 'up')
          ? collector
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; last /health: ${JSON.stringify(last)}`);
    });
    expect(Object.keys(sources).sort()).toEqual(['rabbitmq', ...SERVICES].sort());

    // The page and its compiled browser modules (dist/www/page, in the image), open to everyone.
    const page = await fetch(`${consoleUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    await page.text();
    const module = await fetch(`${consoleUrl}/assets/app.js`);
    expect(module.status).toBe(200);
    expect(await module.text()).toMatch(/\bimport\b|\bexport\b/);

    // The data routes: an operator's token or nothing; the saga board read from orders with the viewer's token.
    expect((await http('GET', `${consoleUrl}/api/sagas`, undefined, { authorization: '' })).status).toBe(401);
    const authorization = `Bearer ${await operatorToken()}`;
    const sagas = await http('GET', `${consoleUrl}/api/sagas`, undefined, { authorization });
    expect(sagas.status, JSON.stringify(sagas.body)).toBe(200);

    // The live stream: its first event carries the topology and the ticks so far, the broker among their sources.
    const stream = await fetch(`${consoleUrl}/api/stream`, {
      headers: { authorization },
      signal: AbortSignal.timeout(15_000),
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    try {
      while (!text.includes('\n\n')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
    } finally {
      await reader.cancel();
    }
    const first = /^event: (\S+)\ndata: (.*)\n\n/.exec(text);
    expect(first?.[1], text.slice(0, 200)).toBe('hello');
    const hello = JSON.parse(first![2]!) as {
      graph: { nodes: unknown[] };
      history: { sources: { name: string; ok: boolean }[] }[];
    };
    expect(hello.graph.nodes.length).toBeGreaterThan(0);
    const latest = hello.history.at(-1)!.sources;
    expect(latest.find((source) => source.name === 'rabbitmq')).toMatchObject({ ok: true });
    expect(latest.filter((source) => !source.ok)).toEqual([]);
  });

  it("runs the demo's four orders to CONFIRMED, CONFIRMED, out_of_stock and payment_failed, with e-mails and analytics", async () => {
    const before = (await http<Record<string, number>>('GET', `${url('analytics')}/analytics/summary`)).body;
    const email = `alice-${randomUUID()}@example.com`;
    const user = await http<{ userId: string }>('POST', `${url('orders')}/users`, { email, name: 'Alice' });
    expect(user.status).toBe(201);
    const userId = user.body.userId;
    await waitFor(
      'the account',
      async () => (await http('GET', `${url('payments')}/accounts/${userId}`)).status === 200,
      {
        timeoutMs: 30_000,
      },
    );
    expect((await http('POST', `${url('payments')}/accounts/${userId}/deposits`, { amount: 10_000 })).status).toBe(201);
    const sku = `DEMO-BOOK-${randomUUID().slice(0, 8)}`;
    expect((await http('PUT', `${url('inventory')}/stock/${sku}`, { quantity: 5 })).status).toBe(200);

    const plans = [
      [1, 1_250],
      [2, 1_250],
      [5, 1_250],
      [2, 5_000],
    ] as const;
    const ids: string[] = [];
    for (const [quantity, unitPrice] of plans) {
      const placed = await http<{ orderId: string }>('POST', `${url('orders')}/orders`, {
        userId,
        items: [{ sku, quantity, unitPrice }],
      });
      expect(placed.status).toBe(202);
      ids.push(placed.body.orderId);
      // One at a time: the third order must find the stock the first two left.
      await waitFor(
        `order ${placed.body.orderId}`,
        async () => {
          const order = await http<Order>('GET', `${url('orders')}/orders/${placed.body.orderId}`);
          return order.status === 200 && order.body.status !== 'PENDING';
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
    }
    const outcomes = await Promise.all(
      ids.map(async (id) => {
        const order = (await http<Order>('GET', `${url('orders')}/orders/${id}`)).body;
        return order.reason ? `${order.status} (${order.reason})` : order.status;
      }),
    );
    expect(outcomes).toEqual(['CONFIRMED', 'CONFIRMED', 'CANCELLED (out_of_stock)', 'CANCELLED (payment_failed)']);

    // Kafka's order-events reach analytics, and the e-mails go out over SMTP to the Mailpit stand-in.
    const after = await waitFor(
      'analytics to count the four orders',
      async () => {
        const summary = (await http<Record<string, number>>('GET', `${url('analytics')}/analytics/summary`)).body;
        return summary.ordersCreated! >= before.ordersCreated! + 4 &&
          summary.ordersCancelled! >= before.ordersCancelled! + 2
          ? summary
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(after.ordersConfirmed! - before.ordersConfirmed!).toBe(2);
    expect(after.revenue! - before.revenue!).toBe(3_750);
    const mails = await waitFor(
      'the five e-mails in the SMTP server',
      async () => {
        const sink = await http<{ messages: { subject: string }[] }>(
          'GET',
          `http://127.0.0.1:${port('MAILPIT')}/messages?to=${encodeURIComponent(email)}`,
        );
        return sink.body.messages?.length >= 5 ? sink.body.messages : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(mails.map((m) => m.subject).sort()).toEqual(
      [
        'Welcome to Async Shop, Alice!',
        ...ids.slice(0, 2).map((id) => `Your order ${id.slice(0, 8)} is confirmed`),
        ...ids.slice(2).map((id) => `Your order ${id.slice(0, 8)} was cancelled`),
      ].sort(),
    );
  });

  it('loses no order when a service container crashes in the middle of 500, and its restart policy brings it back', async () => {
    const { ledger, userIds, skuIds } = await seed(urls, 5, 80_000, 4, 100);
    const [existing] = await query<{ n: number }>(stack, 'orders', 'SELECT count(*)::int AS n FROM orders');
    const victim = container('orders');
    const startedAt = docker('inspect', '-f', '{{.State.StartedAt}}', victim);
    let crashed = false;
    const load = pool(500, 10, async (i) => {
      if (i === 150) {
        // A crash, not an operator's stop: the process dies (SIGKILL from the host), so the restart policy applies.
        // (`docker kill` counts as a manual stop: Docker then leaves the container down.)
        execFileSync('kill', ['-9', docker('inspect', '-f', '{{.State.Pid}}', victim)]);
        crashed = true;
      }
      const body = {
        userId: userIds[i % userIds.length],
        items: [{ sku: skuIds[i % skuIds.length], quantity: 1 + (i % 2), unitPrice: 1_000 }],
      };
      // Every retry of a POST is safe: the Idempotency-Key makes the order once.
      const key = { 'idempotency-key': randomUUID() };
      await persistently(() => http('POST', `${urls.orders}/orders`, body, key), 120_000);
    });
    await load;
    expect(crashed).toBe(true);
    await settle(existing!.n + 500, 180_000, stack);
    const report = await awaitInvariants(ledger, 60_000, stack);
    console.log(`containers: orders container crashed at order 150; outcomes ${JSON.stringify(report.orders)}`);
    expect(report.problems).toEqual([]);
    expect((report.orders.CONFIRMED ?? 0) + (report.orders.CANCELLED ?? 0)).toBe(500);
    // The same container, started again by Docker (restart policy), not a new one.
    expect(docker('inspect', '-f', '{{.State.StartedAt}}', victim)).not.toBe(startedAt);
    expect(Number(docker('inspect', '-f', '{{.RestartCount}}', victim))).toBeGreaterThanOrEqual(1);
    await waitFor(
      'orders to be healthy again',
      async () => (await http('GET', `${urls.orders}/health`)).status === 200,
      {
        timeoutMs: 60_000,
      },
    );
  });
});
