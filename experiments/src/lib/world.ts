import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ensureAuthKeys, nativePassword, type ServiceName } from '@am/messaging';
import {
  ServiceProcess,
  TEST_KEYS_DIR,
  freePort,
  newRunId,
  provisionWorld,
  seed,
  serviceEnv,
  testEnv,
  type ProvisionedWorld,
  type TestEnv,
} from '@am/testing';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const resultsDir = path.join(repoRoot, 'experiments', 'results');

/** Fails early, with the command to run, when the code the experiment starts is not built. */
export function requireBuilt(): void {
  const missing = ['orders', 'inventory', 'payments']
    .map((s) => path.join(repoRoot, 'services', s, 'dist', 'main.js'))
    .filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new Error(`not built: ${missing.join(', ')}\nrun \`npx tsc -b\` first (the experiments build nothing)`);
  }
}

/**
 * The isolated world of one experiment run, named `exp-<id>`: its own RabbitMQ vhost, Kafka topic prefix and one
 * database per service, the same shape as a test run's (libs/testing) so the same helpers start services in it.
 */
export function experimentEnv(runId: string): TestEnv {
  const base = testEnv(runId);
  const host = process.env.TEST_HOST ?? '127.0.0.1';
  const vhost = `exp-${runId}`;
  const database = (service: ServiceName) => `x_${runId}_${service}`;
  return {
    ...base,
    vhost,
    kafkaPrefix: `exp-${runId}.`,
    database,
    databaseUrl: (s) => `postgres://${s}:${nativePassword('postgres', s)}@${host}:5432/${database(s)}`,
    rabbitmqUrl: (s) => `amqp://${s}:${nativePassword('rabbitmq', s)}@${host}:5672/${encodeURIComponent(vhost)}`,
    adminAmqpUrl: `amqp://${base.admin.user}:${base.admin.password}@${host}:5672/${encodeURIComponent(vhost)}`,
  };
}

/**
 * The same world on the three-node clusters of `infra/cluster` (docs/clusters.md): the vhost with quorum queues on
 * the RabbitMQ cluster, the topics with replication factor 3 on the Kafka cluster; the databases stay on the one
 * PostgreSQL. The services get every RabbitMQ node (RABBITMQ_CLUSTER_NODES) and every Kafka broker.
 */
export function clusterExperimentEnv(runId: string): TestEnv {
  const vars = clusterVariables();
  const nodes = vars.RABBITMQ_CLUSTER_NODES!;
  const [first] = nodes.split(',');
  const base = experimentEnv(runId);
  const admin = { ...base.admin, managementUrl: vars.RABBITMQ_MANAGEMENT_URL! };
  const vhost = encodeURIComponent(base.vhost);
  return {
    ...base,
    admin,
    rabbitmqNodes: nodes,
    kafkaBrokers: vars.KAFKA_BROKERS!,
    rabbitmqUrl: (s) => `amqp://${s}:${nativePassword('rabbitmq', s)}@${first}/${vhost}`,
    adminAmqpUrl: `amqp://${admin.user}:${admin.password}@${first}/${vhost}`,
  };
}

/** What `infra/cluster env` prints: the cluster's ports, queue type and replication factor. */
export function clusterVariables(): Record<string, string> {
  const text = execFileSync(path.join(repoRoot, 'infra', 'cluster'), ['env'], { encoding: 'utf8' });
  const vars = Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  for (const name of ['RABBITMQ_CLUSTER_NODES', 'RABBITMQ_MANAGEMENT_URL', 'KAFKA_BROKERS']) {
    if (!vars[name]) throw new Error(`infra/cluster env did not print ${name}`);
  }
  return vars;
}

export interface WorldOptions {
  /** Extra queue arguments by policy, e.g. a low `max-length` on `order-processing` for the backpressure run. */
  queuePolicies?: Record<string, Record<string, unknown>>;
  /** On the clusters of `infra/cluster` (quorum queues, replication factor 3) instead of the single nodes. */
  cluster?: boolean;
}

/** Provisions an `exp-<id>` world, starts services in it, and removes all of it again. */
export class ExperimentWorld {
  readonly runId = newRunId();
  readonly env: TestEnv;
  private readonly processes: ServiceProcess[] = [];
  private provisioned?: ProvisionedWorld;

  constructor(private readonly options: WorldOptions = {}) {
    this.env = options.cluster ? clusterExperimentEnv(this.runId) : experimentEnv(this.runId);
  }

  async provision(): Promise<void> {
    const { queuePolicies, cluster } = this.options;
    this.provisioned = await provisionWorld(this.env, {
      ...(queuePolicies ? { queuePolicies } : {}),
      ...(cluster ? { queueType: 'quorum' as const, replicationFactor: 3 } : {}),
    });
  }

  /** The world's Kafka client (admin rights, the world's prefix); throws before `provision`. */
  get kafka(): ProvisionedWorld['kafka'] {
    if (!this.provisioned) throw new Error('the world is not provisioned yet');
    return this.provisioned.kafka;
  }

  /** Starts one service of this world on a free port; `extra` is added to its environment. */
  async start(service: ServiceName, extra: Record<string, string> = {}): Promise<ServiceProcess> {
    const process = new ServiceProcess(service, await freePort(), serviceEnv(service, this.env, extra));
    this.processes.push(process);
    return process.start(60_000);
  }

  /**
   * The saga's three services, orders' worker capped at `capacity` orders/s with `prefetch`, its saga steps given
   * ten minutes (they wait behind the experiment's backlog and must not time out because of it); `orders` adds to
   * orders' environment.
   */
  async startSaga(
    capacity: number,
    prefetch: number,
    orders: Record<string, string> = {},
  ): Promise<{ orders: ServiceProcess; inventory: ServiceProcess; payments: ServiceProcess }> {
    const [inventory, payments] = await Promise.all([this.start('inventory'), this.start('payments')]);
    const wired = { INVENTORY_URL: inventory.url, PAYMENTS_URL: payments.url };
    return {
      orders: await this.start('orders', {
        ORDER_PROCESSING_MAX_PER_SECOND: String(capacity),
        ORDER_PROCESSING_PREFETCH: String(prefetch),
        SAGA_STEP_TIMEOUT_MS: '600000',
        ...wired,
        ...orders,
      }),
      inventory,
      payments,
    };
  }

  /**
   * Customers and SKUs with money and stock for `orders` orders of one item at `unitPrice`, and the request of order
   * i (customers and SKUs taken in turn).
   */
  async seedOrders(
    urls: { orders: string; inventory: string; payments: string },
    users: number,
    skus: number,
    orders: number,
    unitPrice: number,
  ): Promise<(i: number) => { method: 'POST'; path: string; body: unknown }> {
    const { userIds, skuIds } = await this.seed(
      urls,
      users,
      Math.ceil(orders / users + 1) * unitPrice,
      skus,
      Math.ceil(orders / skus) + 1,
    );
    return (i) => ({
      method: 'POST',
      path: '/orders',
      body: {
        userId: userIds[i % userIds.length],
        items: [{ sku: skuIds[i % skuIds.length], quantity: 1, unitPrice }],
      },
    });
  }

  /** The URL of a started service of this world. */
  url(service: ServiceName): string | undefined {
    return this.processes.find((p) => p.service === service)?.url;
  }

  /** Customers with funded accounts and SKUs with stock (the tests' seeding, through the services' APIs). */
  seed(
    urls: { orders: string; inventory: string; payments: string },
    users: number,
    deposit: number,
    skus: number,
    stock: number,
  ) {
    return seed(urls, users, deposit, skus, stock);
  }

  async query<T>(service: ServiceName, sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.env.databaseUrl(service) });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  /** Stops the services and removes the vhost, the topics and the databases; never throws. */
  async destroy(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop().catch(() => undefined)));
    await this.provisioned?.teardown();
  }
}

/** Runs `main` with the world, and always destroys the world (also on Ctrl-C). */
export async function withWorld<T>(options: WorldOptions, main: (world: ExperimentWorld) => Promise<T>): Promise<T> {
  requireBuilt();
  // The clone's token keys, which the world's services verify with (made here on a fresh clone, as the tests do).
  ensureAuthKeys(TEST_KEYS_DIR);
  const world = new ExperimentWorld(options);
  const interrupted = () => {
    process.stderr.write('\ninterrupted: removing the experiment world\n');
    void world.destroy().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await world.provision();
    // Said in the output, as the measurements depend on it: one address sends the whole load on purpose.
    console.log('world: services run without HTTP rate limits (RATE_LIMIT=off), as a load experiment must');
    return await main(world);
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await world.destroy();
  }
}
