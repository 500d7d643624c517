/**
 * Node failures under sagas, on the three-node clusters of `infra/cluster` (docs/clusters.md): orders, inventory,
 * payments and analytics run against every node (RABBITMQ_CLUSTER_NODES, each service starting on a different one,
 * so a stopped node always has services to fail over), in a world of their own with quorum queues and topics of
 * replication factor 3. Three drills, one after the other, each while `--orders` orders arrive at `--rate` per second:
 *
 *   1. rabbitmq: the node leading `order-processing` (and its share of the other queues) is stopped once
 *      `--fail-after` orders are posted, and started again `--down-s` seconds later; with `--fail-fraction F`, that
 *      share of inventory's reservation attempts fail (its fault switch), so retries pass through quorum retry queues;
 *   2. kafka: the broker coordinating analytics' consumer group (which also leads some `order-events` partitions),
 *      the same way;
 *   3. majority: two of the three RabbitMQ nodes stopped: `POST /orders` must fail fast with 503 and Retry-After,
 *      and take orders again by itself once the nodes are back.
 *
 * Every order is posted with an Idempotency-Key; the ones refused (503) are posted again with the same key after
 * the drill, as a client following Retry-After would. After each drill: every order must reach a final state, the
 * invariant checker (money and stock conserved, nothing left in any queue or outbox, no dead letter) must hold, and
 * analytics must count every order exactly once. The report counts duplicates the inboxes absorbed
 * (`messages_duplicates_total`), orders stored although their POST was refused (a publish that was never confirmed
 * and landed anyway), the longest stretch without a decided order, and the time to recover.
 *
 *   infra/cluster up && npx tsc -b && npm run experiment:cluster-sagas
 *
 * Writes experiments/results/cluster-sagas.{json,svg}, and the table in docs/clusters.md from them.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { Queues, Topics } from '@am/messaging';
import { awaitInvariants, http, sumOfMetric, type Ledger, type ServiceProcess } from '@am/testing';
import { parseArgs } from './lib/args.js';
import { epochMs, progress, sleep } from './lib/clock.js';
import { runOpenLoad, type LoadResult } from './lib/load-generator.js';
import { countOrders } from './lib/samplers.js';
import { loadAverage, machineInfo, writeJson } from './lib/stats.js';
import { writeResultBlocks, type ClusterSagasDrill } from './lib/results-tables.js';
import { writeChart } from './lib/svg-chart.js';
import { clusterVariables, repoRoot, resultsDir, withWorld, type ExperimentWorld } from './lib/world.js';

const options = parseArgs({
  name: 'cluster-sagas',
  /** Orders per drill. */
  orders: 1_000,
  /** Orders per second while a drill runs. */
  rate: 50,
  /** Orders posted before the node is stopped. */
  failAfter: 300,
  /** How long the node stays down. */
  downS: 15,
  /** The drills to run, in order. */
  drills: 'rabbitmq,kafka,majority',
  /**
   * During the rabbitmq drill, this fraction of the attempts at inventory's reservations fail with a transient error
   * (its fault switch), so delayed retries pass through the quorum retry queues while a node is down. Off by default:
   * on RabbitMQ 3.10 retries dead-lettered back from a quorum retry queue can stay stuck after its leader moved
   * (docs/clusters.md, "Retries on the cluster"), and the drill then fails on those orders.
   */
  failFraction: 0,
  /** Requests tried while two nodes are down. */
  majorityProbes: 20,
  users: 100,
  skus: 200,
  settleTimeoutS: 300,
});
const drills = options.drills.split(',').map((d) => d.trim());
for (const d of drills) {
  if (!['rabbitmq', 'kafka', 'majority'].includes(d)) throw new Error(`--drills: unknown drill ${d}`);
}

const started = epochMs();
const loadAverageAtStart = loadAverage();
const log = (message: string) => progress(started, message);
const cluster = path.join(repoRoot, 'infra', 'cluster');
const UNIT_PRICE = 100;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

const run = promisify(execFile);

/**
 * Runs `infra/cluster ARGS` without blocking the event loop (the load generator and the sampler go on meanwhile);
 * its output is shown only when it fails.
 */
async function infra(...args: string[]): Promise<void> {
  await run(cluster, args, { encoding: 'utf8' }).catch((error: Error & { stdout?: string; stderr?: string }) => {
    throw new Error(
      `infra/cluster ${args.join(' ')} failed: ${error.message}\n${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
  });
}

/** Runs `infra/cluster ARGS` and returns how long it took, in seconds. */
async function timedInfra(...args: string[]): Promise<number> {
  const t = epochMs();
  await infra(...args);
  return round((epochMs() - t) / 1000, 1);
}

/** The counters the report reads from the services' /metrics, each summed over every process and label set. */
const COUNTERS = {
  duplicatesAbsorbed: 'messages_duplicates_total',
  retried: 'messages_retried_total',
  deadLettered: 'messages_dead_lettered_total',
  consumerPauses: 'consumer_pauses_total',
} as const;
type Counts = Record<keyof typeof COUNTERS, number>;

/** Every counter of COUNTERS, from one read of each process's /metrics. */
async function readCounters(processes: readonly ServiceProcess[]): Promise<Counts> {
  const counts = Object.fromEntries(Object.keys(COUNTERS).map((k) => [k, 0])) as Counts;
  for (const p of processes) {
    const text = await (await fetch(`${p.url}/metrics`)).text().catch(() => '');
    for (const [key, name] of Object.entries(COUNTERS) as [keyof Counts, string][]) {
      counts[key] += sumOfMetric(text, name);
    }
  }
  return counts;
}

/**
 * POST /orders as a client does it. A keep-alive socket the server closed while it sat idle (the drills wait
 * seconds between requests) fails at once with `other side closed`; fetch does not retry a POST, so this sends it
 * once more on a fresh socket, as any client must. Nothing reached the server, so this hides no answer of the
 * service; such retries are counted. An error that is not this is answered as status 0 with its cause.
 */
let staleSocketRetries = 0;
async function postOrder(
  url: string,
  request: { body: unknown; headers: Record<string, string> },
): Promise<{ status: number; body: { message?: unknown }; headers: Headers }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await http<{ message?: unknown }>('POST', `${url}/orders`, request.body, request.headers);
    } catch (error) {
      const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
      if (attempt === 0 && cause?.code === 'UND_ERR_SOCKET') {
        staleSocketRetries += 1;
        continue;
      }
      const message = `${(error as Error).message}${cause?.message ? `: ${cause.message}` : ''}`;
      return { status: 0, body: { message }, headers: new Headers() };
    }
  }
}

interface Timeline {
  at: number;
  stored: number;
  decided: number;
}

/** The services' reconnections so far, from their logs (warn level): lost connections and refused attempts. */
function reconnections(processes: readonly ServiceProcess[]): Record<string, { lost: number; refused: number }> {
  return Object.fromEntries(
    processes.map((p) => {
      const text = p.logs(1_000);
      const count = (what: string) => text.split(what).length - 1;
      return [p.service, { lost: count('amqp: connection lost'), refused: count('amqp: connect failed') }];
    }),
  );
}

const reports: ClusterSagasDrill[] = [];
const timelines: Record<string, Timeline[]> = {};
const marks: { t: number; label: string }[] = [];
let clock0 = 0;

await withWorld({ cluster: true }, async (world) => {
  await infra('status');
  const nodes = clusterVariables().RABBITMQ_CLUSTER_NODES!.split(',');
  // Each service starts on another node: the rotation puts node k first for the k-th service.
  const startingOn = (k: number) => ({
    RABBITMQ_CLUSTER_NODES: [...nodes.slice(k % 3), ...nodes.slice(0, k % 3)].join(','),
  });
  const [inventory, payments, analytics] = await Promise.all([
    world.start('inventory', { ...startingOn(1), FAULTS_ALLOWED: '1' }),
    world.start('payments', startingOn(2)),
    world.start('analytics', startingOn(0)),
  ]);
  const orders = await world.start('orders', {
    ...startingOn(0),
    SAGA_STEP_TIMEOUT_MS: '600000',
    INVENTORY_URL: inventory.url,
    PAYMENTS_URL: payments.url,
  });
  const processes = [orders, inventory, payments, analytics];
  log(`world ${world.env.vhost} on the cluster: orders, inventory, payments, analytics started`);
  const urls = { orders: orders.url, inventory: inventory.url, payments: payments.url };
  const total = options.orders * drills.length + options.majorityProbes + 100;
  const { ledger, userIds, skuIds } = await world.seed(
    urls,
    options.users,
    Math.ceil(total / options.users + 1) * UNIT_PRICE,
    options.skus,
    Math.ceil(total / options.skus) + 1,
  );
  const db = new pg.Client({ connectionString: world.env.databaseUrl('orders') });
  await db.connect();
  let next = 0;
  const newOrder = () => {
    const i = next++;
    return {
      method: 'POST' as const,
      path: '/orders',
      body: {
        userId: userIds[i % userIds.length],
        items: [{ sku: skuIds[i % skuIds.length], quantity: 1, unitPrice: UNIT_PRICE }],
      },
      headers: { 'idempotency-key': randomUUID() },
    };
  };
  clock0 = epochMs();
  try {
    for (const drill of drills) {
      reports.push(await runDrill(drill, world, processes, db, ledger, newOrder));
    }
  } finally {
    await db.end();
  }
});

async function leaderOfQueue(world: ExperimentWorld, queue: string): Promise<number> {
  const { managementUrl, user, password } = world.env.admin;
  const response = await fetch(`${managementUrl}/api/queues/${encodeURIComponent(world.env.vhost)}/${queue}`, {
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
  });
  const info = (await response.json()) as { leader?: string; node?: string };
  return Number((info.leader ?? info.node ?? '').replace(/^rmq(\d)@.*/, '$1'));
}

/** Java's String.hashCode, which Kafka uses to place a group on a partition of `__consumer_offsets`. */
function javaHash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0;
  return h;
}

/**
 * The broker to stop in the Kafka drill: the coordinator of analytics' group on `order-events` (the leader of its
 * `__consumer_offsets` partition), so the drill moves a group coordinator as well as partition leaders; and how many
 * `order-events` partitions it leads.
 */
async function kafkaDrillBroker(world: ExperimentWorld): Promise<{ broker: number; leads: number }> {
  const admin = world.kafka.admin();
  await admin.connect();
  try {
    const [offsets, events] = await Promise.all([
      admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] }),
      admin.fetchTopicMetadata({ topics: [world.kafka.name(Topics.orderEvents)] }),
    ]);
    const partitions = offsets.topics[0]!.partitions;
    const group = world.kafka.name('analytics');
    const at = (javaHash(group) & 0x7fffffff) % partitions.length;
    const broker = partitions.find((p) => p.partitionId === at)!.leader;
    return { broker, leads: events.topics[0]!.partitions.filter((p) => p.leader === broker).length };
  } finally {
    await admin.disconnect();
  }
}

async function runDrill(
  drill: string,
  world: ExperimentWorld,
  processes: readonly ServiceProcess[],
  db: pg.Client,
  ledger: Ledger,
  newOrder: () => { method: 'POST'; path: string; body: unknown; headers: Record<string, string> },
): Promise<ClusterSagasDrill> {
  const [orders, , , analytics] = processes as [ServiceProcess, ServiceProcess, ServiceProcess, ServiceProcess];
  const countersBefore = await readCounters(processes);
  const storedBefore = (await countOrders(db)).stored;
  const reconnectionsBefore = reconnections(processes);
  const timeline: Timeline[] = [];
  timelines[drill] = timeline;
  let sampling = true;
  // Stops with the drill, and on an error of its own (the drill failing closes the database client under it): a
  // failed drill must show its own error, not the sampler's.
  const sampler = (async () => {
    while (sampling) {
      const counts = await countOrders(db).catch(() => undefined);
      if (!counts) return;
      timeline.push({ at: round((epochMs() - clock0) / 1000, 2), ...counts });
      await sleep(250);
    }
  })();
  const at = () => round((epochMs() - clock0) / 1000, 2);

  let node = '';
  let stopAt = 0;
  let stopTookS = 0;
  let restartTookS = 0;
  let restartedAt = 0;
  const requests: ReturnType<typeof newOrder>[] = [];
  const results: LoadResult[] = [];
  let majority: ClusterSagasDrill['majority'];

  if (drill === 'majority') {
    // Two of three RabbitMQ nodes stopped: the one left pauses (pause_minority) and closes its clients.
    const stopped = [2, 3];
    node = stopped.map((n) => `rmq${n}`).join('+');
    stopAt = at();
    marks.push({ t: stopAt, label: `${drill}: ${node} stopped` });
    for (const n of stopped) stopTookS += await timedInfra('stop-node', 'rabbitmq', String(n));
    stopTookS = round(stopTookS, 1);
    log(`majority: ${node} stopped in ${stopTookS} s; ${options.majorityProbes} orders posted one at a time`);
    const answers: Record<string, number> = {};
    const times: number[] = [];
    const asked: NonNullable<ClusterSagasDrill['majority']>['requests'] = [];
    const retryAfter = new Set<string>();
    for (let i = 0; i < options.majorityProbes; i++) {
      const request = newOrder();
      requests.push(request);
      const t = epochMs();
      const answer = await postOrder(orders.url, request);
      times.push(epochMs() - t);
      const message = answer.body?.message;
      asked.push({
        status: answer.status,
        ms: round(epochMs() - t, 0),
        ...(answer.headers.get('retry-after') ? { retryAfter: answer.headers.get('retry-after')! } : {}),
        ...(message
          ? { message: (typeof message === 'string' ? message : JSON.stringify(message)).slice(0, 160) }
          : {}),
      });
      answers[String(answer.status)] = (answers[String(answer.status)] ?? 0) + 1;
      const header = answer.headers.get('retry-after');
      if (header) retryAfter.add(header);
      results.push({
        index: i,
        scheduledAt: t,
        sentAt: t,
        endedAt: epochMs(),
        status: answer.status,
        latencyMs: epochMs() - t,
        ...(header ? { retryAfter: header } : {}),
      });
      await sleep(250);
    }
    const restartStart = epochMs();
    restartTookS = await timedInfra('up');
    restartedAt = at();
    marks.push({ t: restartedAt, label: `${drill}: nodes back` });
    // When the orders service takes an order again (probing with real orders, each with its own key).
    let acceptedAgainAfterS = -1;
    for (let tries = 0; tries < 240; tries++) {
      const request = newOrder();
      const answer = await postOrder(orders.url, request);
      requests.push(request);
      results.push({
        index: requests.length - 1,
        scheduledAt: 0,
        sentAt: 0,
        endedAt: 0,
        status: answer.status,
        latencyMs: 0,
      });
      if (answer.status === 202) {
        acceptedAgainAfterS = round((epochMs() - restartStart) / 1000, 1);
        break;
      }
      await sleep(500);
    }
    times.sort((a, b) => a - b);
    majority = {
      answers,
      requests: asked,
      medianAnswerMs: round(times[Math.floor(times.length / 2)] ?? 0, 0),
      retryAfter: [...retryAfter],
      acceptedAgainAfterS,
    };
    log(
      `majority: answers ${JSON.stringify(answers)}, median ${majority.medianAnswerMs} ms; orders taken again ${acceptedAgainAfterS} s after the restart began`,
    );
  } else {
    const kafkaTarget = drill === 'kafka' ? await kafkaDrillBroker(world) : undefined;
    const target = kafkaTarget?.broker ?? (await leaderOfQueue(world, Queues.orderProcessing));
    node = kafkaTarget
      ? `kafka${target}: analytics' group coordinator, leader of ${kafkaTarget.leads} of order-events' partitions`
      : `rmq${target}`;
    const batch = Array.from({ length: options.orders }, () => newOrder());
    requests.push(...batch);
    log(`${drill}: ${options.orders} orders at ${options.rate}/s; ${node} stops after ${options.failAfter}`);
    const inventory = processes[1]!;
    const fault =
      drill === 'rabbitmq' && options.failFraction > 0
        ? await http<{ id: string }>('POST', `${inventory.url}/faults`, {
            kind: 'fail-consumer',
            source: Queues.inventoryReserve,
            fraction: options.failFraction,
            durationS: 600,
          })
        : undefined;
    if (fault && fault.status !== 201)
      throw new Error(`fail-consumer on inventory: ${fault.status} ${JSON.stringify(fault.body)}`);
    const failure = (async () => {
      await sleep((options.failAfter / options.rate) * 1000);
      stopAt = at();
      marks.push({ t: stopAt, label: `${drill}: ${node} stopped` });
      stopTookS = await timedInfra('stop-node', drill, String(target));
      log(`${drill}: ${node} stopped (${stopTookS} s); back in ${options.downS} s`);
      await sleep(options.downS * 1000);
      restartTookS = await timedInfra('up');
      restartedAt = at();
      marks.push({ t: restartedAt, label: `${drill}: ${node} back` });
      log(`${drill}: ${node} back (infra/cluster up took ${restartTookS} s)`);
    })();
    const load = await runOpenLoad({
      baseUrl: orders.url,
      requests: options.orders,
      durationMs: (options.orders / options.rate) * 1000,
      request: (i) => batch[i]!,
      timeoutMs: 30_000,
    });
    results.push(...load.results);
    await failure;
    if (fault) await http('DELETE', `${inventory.url}/faults/${fault.body.id}`);
  }

  const accepted = results.filter((r) => r.status === 202).length;
  const refusedIdx = results.filter((r) => r.status !== 202).map((r) => r.index);
  // What a client following Retry-After does: the same request, with the same key, again, until taken.
  const storedBeforeRepost = (await countOrders(db)).stored - storedBefore;
  let repostedAccepted = 0;
  for (const i of refusedIdx) {
    const request = requests[i]!;
    for (let tries = 0; tries < 60; tries++) {
      const answer = await postOrder(orders.url, request);
      if (answer.status === 202) {
        repostedAccepted += 1;
        break;
      }
      await sleep(1_000);
    }
  }
  // Every request ends as exactly one order (a repost names the order its key made), and every order decided.
  const expected = storedBefore + requests.length;
  const deadline = epochMs() + options.settleTimeoutS * 1000;
  for (
    let now = await countOrders(db);
    now.stored < expected || now.decided < now.stored;
    now = await countOrders(db)
  ) {
    if (epochMs() > deadline) {
      log(
        `${drill}: ${now.stored - storedBefore} of ${requests.length} orders stored, ${now.decided - storedBefore} decided after ${options.settleTimeoutS} s`,
      );
      break;
    }
    await sleep(250);
  }
  const settledAt = at();
  sampling = false;
  await sampler;
  const after = timeline.filter((s) => s.at >= stopAt);
  let longestStallS = 0;
  // Time counts as a stall while some of the drill's orders are not decided yet and none gets decided.
  for (let i = 1, since = after[0]?.at ?? 0; i < after.length; i++) {
    const sample = after[i]!;
    if (sample.decided > after[i - 1]!.decided || sample.decided >= expected) since = sample.at;
    else longestStallS = Math.max(longestStallS, sample.at - since);
  }
  const report = await awaitInvariants(ledger, 60_000, world.env);
  const stored = (await countOrders(db)).stored;
  let counted = -1;
  for (const stop = epochMs() + 60_000; epochMs() < stop; await sleep(500)) {
    const summary = await http<{ ordersCreated: number }>('GET', `${analytics.url}/analytics/summary`);
    counted = summary.body.ordersCreated;
    if (counted === stored) break;
  }
  const { rows } = await db.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM orders GROUP BY status',
  );
  const of = (status: string) => rows.find((r) => r.status === status)?.n ?? 0;
  const refused = results.length - accepted;
  const countersAfter = await readCounters(processes);
  const result: ClusterSagasDrill = {
    drill,
    node,
    posted: results.length,
    accepted,
    refused,
    refusedWithRetryAfter: results.filter((r) => r.status === 503 && r.retryAfter).length,
    storedAlthoughRefused: Math.max(0, storedBeforeRepost - accepted),
    repostedAccepted,
    final: { confirmed: of('CONFIRMED'), cancelled: of('CANCELLED'), pending: of('PENDING') },
    ...(Object.fromEntries(
      Object.entries(countersAfter).map(([key, n]) => [key, n - countersBefore[key as keyof Counts]]),
    ) as Counts),
    stopTookS,
    restartTookS,
    longestStallS: round(longestStallS, 2),
    failovers: Object.fromEntries(
      Object.entries(reconnections(processes)).map(([service, now]) => {
        const before = reconnectionsBefore[service]!;
        return [service, { lost: now.lost - before.lost, refused: now.refused - before.refused }];
      }),
    ),
    allDecidedAfterS: round((timeline.find((x) => x.decided >= expected)?.at ?? settledAt) - stopAt, 1),
    backAfterS: round(restartedAt - stopAt, 1),
    analytics: { counted, stored, exact: counted === stored },
    invariants: report.problems,
    ...(majority ? { majority } : {}),
  };
  log(
    `${drill}: ${accepted} accepted, ${refused} refused (${result.refusedWithRetryAfter} with Retry-After), ` +
      `${result.storedAlthoughRefused} stored although refused, ${result.duplicatesAbsorbed} duplicates absorbed, ` +
      `${result.retried} retries, ${result.deadLettered} dead letters, ${result.consumerPauses} consumer pauses, ` +
      `longest stall ${result.longestStallS} s, all decided ${result.allDecidedAfterS} s after the stop began (nodes back at ${result.backAfterS} s); ` +
      `analytics ${counted} of ${stored}; invariants ${report.problems.length === 0 ? 'hold' : report.problems.join('; ')}`,
  );
  return result;
}

const report = {
  experiment: 'cluster-sagas',
  ranAt: new Date().toISOString(),
  machine: machineInfo(loadAverageAtStart),
  command: `node experiments/dist/cluster-sagas.js ${process.argv.slice(2).join(' ')}`.trim(),
  options,
  drills: reports,
  timelines,
  staleSocketRetries,
  ok: reports.every((r) => r.invariants.length === 0 && r.analytics.exact && r.final.pending === 0),
};
writeJson(path.join(resultsDir, `${options.name}.json`), report);
writeChart(path.join(resultsDir, `${options.name}.svg`), {
  title: 'Sagas through node failures on the three-node clusters',
  subtitle: `${options.orders} orders per drill at ${options.rate}/s; orders decided over time`,
  xLabel: 'seconds since the first drill began',
  panels: [
    {
      yLabel: 'orders decided',
      series: Object.entries(timelines).map(([drill, points], k) => ({
        name: drill,
        color: ['#1f77b4', '#d62728', '#2ca02c'][k % 3]!,
        points: points.map((p) => ({ t: p.at, v: p.decided })),
      })),
    },
  ],
  xMarks: marks,
});
log(
  `wrote ${path.join('experiments', 'results', `${options.name}.json`)} and .svg: ${report.ok ? 'every drill held' : 'SOME DRILL FAILED'}`,
);
for (const page of writeResultBlocks(repoRoot, `${options.name}.json`)) log(`rewrote the figures of ${page} from it`);
process.exitCode = report.ok ? 0 : 1;
