/**
 * Backpressure, measured: arrivals held at 3× the workers' capacity (450/s against 150/s by default, for 45 s,
 * sized for a 2-core machine) into an order-processing queue bounded at 2,000 messages (a RabbitMQ policy: `max-length` with
 * `overflow: reject-publish`). Once the backlog reaches the bound, the broker refuses new messages with a
 * negative confirm and POST /orders answers 503 with Retry-After, fast, instead of accepting work it cannot
 * store. Every accepted order must be stored; no refused request may leave an order behind.
 *
 * With --memory-alarm it also lowers RabbitMQ's memory high watermark for a few seconds (a real memory alarm,
 * which blocks every publishing connection on this broker, not just this experiment's) and shows POST /orders
 * turning the blocked connection into 503s; the previous watermark is always restored.
 *
 *   npx tsc -b && npm run experiment:backpressure
 *   npm run experiment:backpressure -- --rate 900 --capacity 300 --duration-s 60 --max-length 5000 --memory-alarm
 */
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Queues } from '@am/messaging';
import { parseArgs } from './lib/args.js';
import { epochMs, progress, sleep } from './lib/clock.js';
import { runOpenLoad, type LoadResult } from './lib/load-generator.js';
import { activeAlarms, readWatermark, setWatermark, type Watermark } from './lib/rabbit-alarm.js';
import { OrderCountSampler, QueueDepthSampler, countOrders } from './lib/samplers.js';
import { loadAverage, machineInfo, ratePerSecond, summarize, writeCsv, writeJson } from './lib/stats.js';
import { writeChart } from './lib/svg-chart.js';
import { repoRoot, resultsDir, withWorld, type ExperimentWorld } from './lib/world.js';
import { writeResultBlocks } from './lib/results-tables.js';

const options = parseArgs({
  /** Base name of the result files under experiments/results/. */
  name: 'backpressure',
  rate: 450,
  durationS: 45,
  capacity: 150,
  maxLength: 2_000,
  prefetch: 50,
  users: 50,
  skus: 10,
  maxSockets: 1_000,
  memoryAlarm: false,
  alarmRate: 200,
  alarmSeconds: 3,
});

const started = epochMs();
const loadAverageAtStart = loadAverage();
const log = (message: string) => progress(started, message);
const UNIT_PRICE = 100;
type Order = (i: number) => { method: 'POST'; path: string; body: unknown };

await withWorld({ queuePolicies: { [Queues.orderProcessing]: { 'max-length': options.maxLength } } }, async (world) => {
  log(
    `world ${world.env.vhost}: order-processing bounded at ${options.maxLength}, workers capped at ${options.capacity}/s`,
  );
  const { orders, inventory, payments } = await world.startSaga(options.capacity, options.prefetch);
  const urls = { orders: orders.url, inventory: inventory.url, payments: payments.url };
  const most = options.rate * options.durationS + options.alarmRate * (options.alarmSeconds + 8);
  log(`seeding ${options.users} customers and ${options.skus} SKUs`);
  const order: Order = await world.seedOrders(urls, options.users, options.skus, most, UNIT_PRICE);
  const db = new pg.Client({ connectionString: world.env.databaseUrl('orders') });
  await db.connect();
  try {
    const overload = await sustainedOverload(world, db, order);
    const alarm = options.memoryAlarm ? await memoryAlarm(world, db, order) : undefined;
    writeJson(path.join(resultsDir, `${options.name}.json`), {
      experiment: 'backpressure',
      ranAt: new Date().toISOString(),
      machine: machineInfo(loadAverageAtStart),
      command: `node experiments/dist/backpressure.js ${process.argv.slice(2).join(' ')}`.trim(),
      options,
      ...overload,
      ...(alarm ? { memoryAlarm: alarm } : {}),
    });
    log(`wrote experiments/results/${options.name}.json`);
    for (const page of writeResultBlocks(repoRoot, `${options.name}.json`))
      log(`rewrote the figures of ${page} from it`);
  } finally {
    await db.end();
  }
});

async function sustainedOverload(world: ExperimentWorld, db: pg.Client, order: Order) {
  const depth = new QueueDepthSampler(world.env.adminAmqpUrl, Queues.orderProcessing, 100);
  const counts = new OrderCountSampler(world.env.databaseUrl('orders'), 500);
  await depth.start();
  await counts.start();
  const requests = options.rate * options.durationS;
  log(
    `overload: ${options.rate}/s POST /orders for ${options.durationS} s (${requests} requests), capacity ${options.capacity}/s`,
  );
  const tally = (all: readonly LoadResult[]) => {
    let ok = 0;
    let refused = 0;
    for (const r of all) {
      if (r?.status === 202) ok++;
      else if (r?.status === 503) refused++;
    }
    return { ok, refused };
  };
  const { start, results } = await runOpenLoad({
    baseUrl: world.url('orders')!,
    requests,
    durationMs: options.durationS * 1000,
    request: order,
    timeoutMs: 15_000,
    maxSockets: options.maxSockets,
    keepBody: (status) => status === 202,
    onProgress: (sent, done, all) => {
      const { ok, refused } = tally(all);
      log(
        `sent ${sent}, answered ${done}: 202 ${ok}, 503 ${refused}; queue depth ${depth.latest()}; stored ${counts.latest()?.stored ?? 0}`,
      );
    },
  });
  const accepted = results.filter((r) => r.status === 202);
  const rejected = results.filter((r) => r.status === 503);
  const other = results.filter((r) => r.status !== 202 && r.status !== 503);
  log(
    `overload over: ${accepted.length} accepted, ${rejected.length} refused with 503, ${other.length} other; draining`,
  );
  const drainDeadline = epochMs() + ((options.maxLength / options.capacity) * 2 + 60) * 1000;
  while (epochMs() < drainDeadline) {
    const { stored } = await countOrders(db);
    if (stored >= accepted.length && depth.latest() === 0) break;
    log(`draining: queue depth ${depth.latest()}, stored ${stored} of ${accepted.length}`);
    await sleep(1_000);
  }
  await depth.stop();
  await counts.stop();

  const rows = (
    await db.query<{ id: string; created_at: Date; status: string }>('SELECT id, created_at, status FROM orders')
  ).rows;
  const acceptedIds = new Set(accepted.map((r) => (r.body as { orderId: string }).orderId));
  const storedIds = new Set(rows.map((r) => r.id));
  const lost = [...acceptedIds].filter((id) => !storedIds.has(id)).length;
  const halfCreated = rows.filter((r) => !acceptedIds.has(r.id)).length;
  const decided = rows.filter((r) => r.status !== 'PENDING').length;
  const end = Math.max(...results.map((r) => r.endedAt), ...rows.map((r) => r.created_at.getTime()));
  const span = end - start + 2_000;
  const boundReached = depth.samples.find((s) => s.ready >= options.maxLength - options.prefetch);
  const firstRejected = rejected.length ? Math.min(...rejected.map((r) => r.sentAt)) : undefined;
  const processedAt = rows.map((r) => r.created_at.getTime());
  const acceptedRate = ratePerSecond(
    accepted.map((r) => r.sentAt),
    start,
    span,
    1_000,
  );
  const rejectedRate = ratePerSecond(
    rejected.map((r) => r.sentAt),
    start,
    span,
    1_000,
  );
  const arrivals = ratePerSecond(
    results.map((r) => r.sentAt),
    start,
    span,
    1_000,
  );
  const processed = ratePerSecond(processedAt, start, span, 1_000);
  writeCsv(
    path.join(resultsDir, `${options.name}.csv`),
    arrivals.map((a, i) => ({
      t_s: a.t,
      arrival_per_s: a.v,
      accepted_per_s: acceptedRate[i]!.v,
      rejected_503_per_s: rejectedRate[i]!.v,
      processed_per_s: processed[i]!.v,
    })),
  );
  writeCsv(
    path.join(resultsDir, `${options.name}-depth.csv`),
    depth.samples.map((s) => ({ t_s: (s.at - start) / 1000, ready: s.ready })),
  );
  const acceptedLatency = summarize(accepted.map((r) => r.latencyMs));
  const rejectedLatency = summarize(rejected.map((r) => r.latencyMs));
  const withRetryAfter = rejected.filter((r) => r.retryAfter !== undefined).length;
  writeChart(path.join(resultsDir, `${options.name}.svg`), {
    title: `Backpressure: ${options.rate}/s POST /orders for ${options.durationS} s, workers at ${options.capacity}/s, queue bounded at ${options.maxLength.toLocaleString('en')}`,
    subtitle: `accepted ${accepted.length}, refused 503 ${rejected.length} (p99 ${rejectedLatency.p99Ms} ms), other ${other.length}; lost ${lost}, half-created ${halfCreated}; ${os.cpus().length} cores`,
    xLabel: 'seconds since the load started',
    xMarks: firstRejected ? [{ t: (firstRejected - start) / 1000, label: 'first 503' }] : [],
    panels: [
      {
        yLabel: 'requests per second (1 s buckets, by send time)',
        series: [
          { name: 'arrivals', color: '#d62728', points: arrivals, step: true },
          { name: 'accepted (202)', color: '#ff7f0e', points: acceptedRate, step: true },
          { name: 'refused (503 + Retry-After)', color: '#9467bd', points: rejectedRate, step: true },
          { name: 'processed (orders stored by the worker)', color: '#1f77b4', points: processed, step: true },
        ],
        marks: [{ v: options.capacity, label: `capacity ${options.capacity}/s`, color: '#1f77b4' }],
      },
      {
        yLabel: 'order-processing depth (ready)',
        series: [
          {
            name: 'measured every 100 ms',
            color: '#2ca02c',
            points: depth.samples.map((s) => ({ t: (s.at - start) / 1000, v: s.ready })),
          },
        ],
        marks: [{ v: options.maxLength, label: `max-length ${options.maxLength} (reject-publish)`, color: '#d62728' }],
      },
    ],
  });
  log(`wrote ${options.name}.svg; lost ${lost}, half-created ${halfCreated}, decided ${decided}/${rows.length}`);
  return {
    requests: results.length,
    accepted: accepted.length,
    rejected503: rejected.length,
    rejectedWithRetryAfter: withRetryAfter,
    otherErrors: other.length,
    otherErrorsByKind: byKind(other),
    stored: rows.length,
    lost,
    halfCreated,
    decided,
    peakDepth: Math.max(0, ...depth.samples.map((s) => s.ready)),
    boundReachedSeconds: boundReached ? round((boundReached.at - start) / 1000) : null,
    predictedBoundSeconds: round(options.maxLength / (options.rate - options.capacity)),
    firstRejectedSeconds: firstRejected ? round((firstRejected - start) / 1000) : null,
    acceptedLatency,
    rejectedLatency,
    processingRatePerSecond: round(
      processedAt.length / Math.max(0.001, (Math.max(...processedAt) - Math.min(...processedAt)) / 1000),
    ),
  };
}

/** A few seconds of RabbitMQ memory alarm under steady load; the previous watermark is always restored. */
async function memoryAlarm(world: ExperimentWorld, db: pg.Client, order: Order) {
  const previous: Watermark = await readWatermark();
  log(
    `memory alarm: watermark is ${JSON.stringify(previous)}; lowering it to 0.0001 for ${options.alarmSeconds} s under ${options.alarmRate}/s`,
  );
  const restore = () => setWatermark(previous);
  const onSignal = () => void restore().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  const before = (await countOrders(db)).stored;
  const totalSeconds = options.alarmSeconds + 8;
  let alarmOn: number | undefined;
  let alarmOff: number | undefined;
  try {
    const load = runOpenLoad({
      baseUrl: world.url('orders')!,
      requests: options.alarmRate * totalSeconds,
      durationMs: totalSeconds * 1000,
      request: order,
      timeoutMs: 15_000,
      keepBody: (status) => status === 202,
    });
    await sleep(3_000);
    try {
      await setWatermark({ relative: 0.0001 });
      alarmOn = epochMs();
      log(`alarm raised: ${await activeAlarms()}`);
      await sleep(options.alarmSeconds * 1000);
    } finally {
      await restore();
      alarmOff = epochMs();
      log(`watermark restored to ${JSON.stringify(previous)}; alarms now: ${await activeAlarms()}`);
    }
    const { start, results } = await load;
    await sleep(3_000);
    const { stored } = await countOrders(db);
    const accepted = results.filter((r) => r.status === 202);
    const during = results.filter((r) => r.sentAt >= alarmOn! && r.sentAt < alarmOff!);
    const refused = results.filter((r) => r.status === 503);
    const span = Math.max(...results.map((r) => r.endedAt)) - start + 1_000;
    writeChart(path.join(resultsDir, `${options.name}-memory-alarm.svg`), {
      title: `RabbitMQ memory alarm under ${options.alarmRate}/s POST /orders`,
      subtitle: `during the alarm: ${during.filter((r) => r.status === 503).length} of ${during.length} answered 503 (p99 ${summarize(refused.map((r) => r.latencyMs)).p99Ms} ms); accepted ${accepted.length}, stored ${stored - before}`,
      xLabel: 'seconds since the load started',
      xMarks: [
        { t: (alarmOn - start) / 1000, label: 'alarm raised' },
        { t: (alarmOff - start) / 1000, label: 'watermark restored' },
      ],
      panels: [
        {
          yLabel: 'per second (250 ms buckets, by send time)',
          series: [
            {
              name: 'accepted (202)',
              color: '#ff7f0e',
              points: ratePerSecond(
                accepted.map((r) => r.sentAt),
                start,
                span,
                250,
              ),
              step: true,
            },
            {
              name: 'refused (503)',
              color: '#9467bd',
              points: ratePerSecond(
                refused.map((r) => r.sentAt),
                start,
                span,
                250,
              ),
              step: true,
            },
          ],
        },
        {
          yLabel: 'latency, ms (by send time)',
          series: [
            {
              name: 'each request',
              color: '#2ca02c',
              points: results.map((r) => ({ t: (r.sentAt - start) / 1000, v: r.latencyMs })),
            },
          ],
        },
      ],
    });
    return {
      previousWatermark: previous,
      alarmSeconds: round((alarmOff - alarmOn) / 1000),
      requests: results.length,
      accepted: accepted.length,
      rejected503: refused.length,
      duringAlarm: {
        requests: during.length,
        rejected503: during.filter((r) => r.status === 503).length,
        byKind: byKind(during),
      },
      rejectedLatency: summarize(refused.map((r) => r.latencyMs)),
      storedAfter: stored - before,
      otherErrorsByKind: byKind(results.filter((r) => r.status !== 202 && r.status !== 503)),
    };
  } finally {
    process.off('SIGINT', onSignal);
    if (alarmOff === undefined) await restore();
  }
}

function byKind(results: readonly LoadResult[]): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const r of results) {
    const kind = r.status === 0 ? (r.error ?? 'error') : `http_${r.status}`;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
