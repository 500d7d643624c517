/**
 * Orchestration against choreography, measured: the same orders through the saga and through the choreographed flow
 * (docs/choreography.md), in one world with the same services, alternating the two so that the machine's drift
 * falls on both. Per flow:
 * - a steady phase (open model, `--rate` orders a second for `--duration-s`): end-to-end latency from the time each
 *   `POST /orders` was scheduled to the commit that ended the order (its `updated_at`; client and database share
 *   this machine's clock);
 * - a burst (`--burst` orders within one second): throughput, orders ended per second from the first request to
 *   the last end;
 * - messages per order: what the three services' outboxes published for the orders (by correlation id), plus the
 *   `order.place` task the API publishes itself, and the deliveries to service queues that the topology makes of
 *   them;
 * - what a reader opens to follow one order: the source files that say who does what next, found by the flow's
 *   own names (listed in the result file, so the count can be checked).
 *
 *   npx tsc -b && npm run experiment:choreography
 *   npm run experiment:choreography -- --rate 60 --duration-s 30 --burst 1500
 */
import { readFileSync, globSync } from 'node:fs';
import path from 'node:path';
import { Exchanges, queues, topics } from '@am/messaging';
import { parseArgs } from './lib/args.js';
import { epochMs, progress, sleep } from './lib/clock.js';
import { runOpenLoad, type LoadResult } from './lib/load-generator.js';
import { writeResultBlocks } from './lib/results-tables.js';
import { loadAverage, machineInfo, summarize, writeCsv, writeJson, type LatencySummary } from './lib/stats.js';
import { writeChart } from './lib/svg-chart.js';
import { repoRoot, resultsDir, withWorld, type ExperimentWorld } from './lib/world.js';

const options = parseArgs({
  /** Base name of the result files under experiments/results/. */
  name: 'choreography',
  rate: 40,
  durationS: 30,
  burst: 1_000,
  users: 50,
  skus: 10,
});

const FLOWS = ['orchestrated', 'choreographed'] as const;
type Flow = (typeof FLOWS)[number];
const UNIT_PRICE = 100;
const UNCAPPED = 100_000;
const started = epochMs();
const log = (message: string) => progress(started, message);
const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * The names by which the code says who does what next in each flow: the saga's step list and its command and reply
 * exchanges; the flow's exchange, its bindings and its reactions. A file that uses one is a place a reader must open.
 */
const FLOW_NAMES: Record<Flow, RegExp> = {
  orchestrated: /\borderSaga\b|Exchanges\.sagaCommands|Exchanges\.sagaReplies|SAGA_REPLY_KEY/,
  choreographed: /Exchanges\.orderFlow|onOrderFlow\(|ORDER_FLOW_REACTIONS/,
};

const withoutComments = (code: string) => code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

/** Source files (no tests, diagrams, fault tools or docs) of the services and the messaging library that use the flow's names. */
function placesDefining(flow: Flow): string[] {
  return globSync('{services/*/src,libs/messaging/src}/**/*.ts', { cwd: repoRoot })
    .filter((f) => !/\.spec\.ts$|diagram|console\/|faults\//.test(f))
    .filter((f) => FLOW_NAMES[flow].test(withoutComments(readFileSync(path.join(repoRoot, f), 'utf8'))))
    .sort();
}

/** How many service queues (audit's wire-taps aside) a message published to `exchange` with `key` reaches. */
function deliveries(broker: string, destination: string, key: string): number {
  if (broker === 'kafka') return topics.find((t) => t.name === destination)?.groups.length ?? 0;
  const matches = (pattern: string) => pattern === '#' || pattern === key || pattern === '';
  return queues.filter(
    (q) => q.consumer !== 'audit' && q.bindings.some((b) => b.exchange === destination && matches(b.routingKey)),
  ).length;
}

interface PhaseResult {
  orders: number;
  accepted: number;
  confirmed: number;
  cancelled: number;
  pending: number;
  endToEnd: LatencySummary;
  /** Orders ended per second, from the first scheduled request to the last end. */
  throughputPerSecond: number;
  spanSeconds: number;
}

interface FlowResult {
  steady: PhaseResult;
  burst: PhaseResult;
  messagesPerOrder: {
    published: number;
    rabbitmq: number;
    kafka: number;
    deliveries: number;
    byType: Record<string, number>;
  };
  reader: { places: number; files: string[] };
}

async function phase(
  world: ExperimentWorld,
  flow: Flow,
  order: (i: number) => { method: 'POST'; path: string; body: unknown },
  requests: number,
  durationMs: number,
): Promise<{ result: PhaseResult; orderIds: string[]; latencies: number[] }> {
  const { results } = await runOpenLoad({
    baseUrl: world.url('orders')!,
    requests,
    durationMs,
    timeoutMs: 30_000,
    keepBody: (status) => status === 202,
    request: (i) => ({ ...order(i), body: { ...(order(i).body as object), flow } }),
  });
  const accepted = results.filter((r): r is LoadResult & { body: { orderId: string } } => r.status === 202);
  const orderIds = accepted.map((r) => r.body.orderId);
  let rows: { id: string; status: string; ended: string }[] = [];
  for (let waited = 0; waited < 180_000; waited += 500) {
    rows = await world.query(
      'orders',
      `SELECT id, status, (extract(epoch FROM updated_at) * 1000)::text AS ended FROM orders WHERE id = ANY($1::uuid[])`,
      [orderIds],
    );
    if (rows.length === orderIds.length && rows.every((r) => r.status !== 'PENDING')) break;
    await sleep(500);
  }
  const ended = new Map(rows.map((r) => [r.id, Number(r.ended)]));
  const latencies = accepted.map((r) => ended.get(r.body.orderId)! - r.scheduledAt).filter((n) => Number.isFinite(n));
  const first = Math.min(...results.map((r) => r.scheduledAt));
  const last = Math.max(...rows.map((r) => Number(r.ended)));
  const count = (status: string) => rows.filter((r) => r.status === status).length;
  return {
    orderIds,
    latencies,
    result: {
      orders: requests,
      accepted: accepted.length,
      confirmed: count('CONFIRMED'),
      cancelled: count('CANCELLED'),
      pending: count('PENDING'),
      endToEnd: summarize(latencies),
      throughputPerSecond: round1(rows.length / ((last - first) / 1000)),
      spanSeconds: round1((last - first) / 1000),
    },
  };
}

async function messagesPerOrder(world: ExperimentWorld, orderIds: string[]): Promise<FlowResult['messagesPerOrder']> {
  const byType: Record<string, number> = { 'order.place': orderIds.length };
  let rabbitmq = orderIds.length;
  let kafka = 0;
  let delivered = orderIds.length; // the task reaches the order-processing queue
  for (const service of ['orders', 'inventory', 'payments'] as const) {
    const rows = await world.query<{
      broker: string;
      destination: string;
      routing_key: string;
      message_type: string;
      n: number;
    }>(
      service,
      `SELECT broker, destination, routing_key, message_type, count(*)::int AS n FROM outbox
        WHERE payload->>'correlationId' = ANY($1::text[]) GROUP BY 1, 2, 3, 4`,
      [orderIds],
    );
    for (const r of rows) {
      byType[r.message_type] = (byType[r.message_type] ?? 0) + r.n;
      if (r.broker === 'kafka') kafka += r.n;
      else rabbitmq += r.n;
      delivered += r.n * deliveries(r.broker, r.destination, r.routing_key);
    }
  }
  const per = (n: number) => Math.round((n / orderIds.length) * 100) / 100;
  return {
    published: per(rabbitmq + kafka),
    rabbitmq: per(rabbitmq),
    kafka: per(kafka),
    deliveries: per(delivered),
    byType: Object.fromEntries(
      Object.entries(byType)
        .sort()
        .map(([type, n]) => [type, per(n)]),
    ),
  };
}

const loadAverageAtStart = loadAverage();
await withWorld({}, async (world) => {
  // Uncapped workers (a cap far above what two cores do); long deadlines: this measures the flows, not timeouts.
  const { orders, inventory, payments } = await world.startSaga(UNCAPPED, 50);
  const urls = { orders: orders.url, inventory: inventory.url, payments: payments.url };
  const most = 2 * (options.rate * options.durationS + options.burst);
  log(`seeding ${options.users} customers and ${options.skus} SKUs, enough for every order to be confirmed`);
  const order = await world.seedOrders(urls, options.users, options.skus, most, UNIT_PRICE);
  const results = {} as Record<Flow, FlowResult>;
  const steadyLatencies = {} as Record<Flow, number[]>;
  const steadies = {} as Record<Flow, Awaited<ReturnType<typeof phase>>>;
  // Alternating: steady orchestrated, steady choreographed, then the bursts in the same order.
  for (const flow of FLOWS) {
    log(`${flow}: steady, ${options.rate}/s for ${options.durationS} s`);
    steadies[flow] = await phase(world, flow, order, options.rate * options.durationS, options.durationS * 1000);
    steadyLatencies[flow] = steadies[flow].latencies;
    await sleep(2_000);
  }
  for (const flow of FLOWS) {
    log(`${flow}: burst of ${options.burst}`);
    const burst = await phase(world, flow, order, options.burst, 1_000);
    const all = [...steadies[flow].orderIds, ...burst.orderIds];
    results[flow] = {
      steady: steadies[flow].result,
      burst: burst.result,
      messagesPerOrder: await messagesPerOrder(world, all),
      reader: { places: placesDefining(flow).length, files: placesDefining(flow) },
    };
    log(`${flow}: ${JSON.stringify({ ...results[flow], reader: results[flow].reader.places })}`);
    await sleep(2_000);
  }

  const file = (ext: string) => path.join(resultsDir, `${options.name}.${ext}`);
  writeJson(file('json'), {
    command: [
      'npm run experiment:choreography',
      ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : []),
    ].join(' '),
    ranAt: new Date().toISOString(),
    machine: machineInfo(loadAverageAtStart),
    options,
    exchange: Exchanges.orderFlow,
    flows: results,
  });
  writeCsv(
    file('csv'),
    FLOWS.flatMap((flow) => steadyLatencies[flow].map((ms) => ({ flow, endToEndMs: ms }))),
  );
  const cdf = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return Array.from({ length: 101 }, (_, p) => ({
      t: p,
      v: sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0,
    }));
  };
  writeChart(file('svg'), {
    title: 'The same orders, orchestrated and choreographed',
    subtitle: `${options.rate} orders/s for ${options.durationS} s each; end-to-end latency by percentile`,
    xLabel: 'percentile of orders',
    panels: [
      {
        yLabel: 'end-to-end latency (ms)',
        series: [
          { name: 'orchestrated (saga)', color: '#1f77b4', points: cdf(steadyLatencies.orchestrated) },
          { name: 'choreographed', color: '#d62728', points: cdf(steadyLatencies.choreographed) },
        ],
      },
    ],
  });
  const pages = writeResultBlocks(repoRoot, `${options.name}.json`);
  log(`wrote ${file('json')}, .csv, .svg${pages.length ? `; updated ${pages.join(', ')}` : ''}`);
});
