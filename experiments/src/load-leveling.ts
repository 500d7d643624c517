/**
 * Load leveling, measured: a burst of POST /orders far above what the order-processing workers can take, with the
 * workers capped at a known rate (ORDER_PROCESSING_MAX_PER_SECOND, the capacity knob). The queue absorbs the
 * burst, the API keeps answering 202, and the backlog drains at the workers' pace. Then the same burst against
 * POST /orders/sync, where every request waits for inventory and payments.
 *
 *   npx tsc -b && npm run experiment:load-leveling            # 10,000 requests in 1 s, capacity 1,000/s
 *   npm run experiment:load-leveling -- --requests 2000 --capacity 200 --skip-sync
 *
 * Writes experiments/results/load-leveling.{json,svg,csv} and load-leveling-sync.{svg,csv}.
 */
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Queues } from '@am/messaging';
import { parseArgs } from './lib/args.js';
import { epochMs, progress, sleep } from './lib/clock.js';
import { runOpenLoad, type LoadResult } from './lib/load-generator.js';
import { OrderCountSampler, QueueDepthSampler, countOrders } from './lib/samplers.js';
import { ratePerSecond, summarize, writeCsv, writeJson } from './lib/stats.js';
import { writeChart } from './lib/svg-chart.js';
import { repoRoot, resultsDir, withWorld, type ExperimentWorld } from './lib/world.js';
import { writeResultBlocks } from './lib/results-tables.js';

const options = parseArgs({
  /** Base name of the result files under experiments/results/. */
  name: 'load-leveling',
  requests: 10_000,
  durationMs: 1_000,
  capacity: 1_000,
  prefetch: 50,
  users: 100,
  skus: 20,
  warmup: 300,
  maxSockets: 1_000,
  drainTimeoutS: 180,
  skipSync: false,
  syncRequests: 0,
  syncTimeoutMs: 30_000,
  /** Take the requests in a second orders process that consumes nothing (SERVICE_CONSUMERS=off). */
  splitIntake: false,
});

const started = epochMs();
// Other work on the machine skews every figure here: the load average goes into the report.
const loadAverageAtStart = os.loadavg().map((l) => Math.round(l * 100) / 100);
const log = (message: string) => progress(started, message);
const UNIT_PRICE = 100;

interface Urls {
  orders: string;
  inventory: string;
  payments: string;
}

await withWorld({}, async (world) => {
  log(`world ${world.env.vhost}: starting inventory, payments and orders (capacity ${options.capacity}/s)`);
  const [inventory, payments] = await Promise.all([world.start('inventory'), world.start('payments')]);
  const orders = await world.start('orders', {
    ORDER_PROCESSING_MAX_PER_SECOND: String(options.capacity),
    ORDER_PROCESSING_PREFETCH: String(options.prefetch),
    // The saga's steps wait behind the backlog; they must not time out because of the experiment itself.
    SAGA_STEP_TIMEOUT_MS: '600000',
    INVENTORY_URL: inventory.url,
    PAYMENTS_URL: payments.url,
  });
  // The API apart from the worker: the burst's requests and the worker's transactions do not share a process.
  const intake = options.splitIntake
    ? await world.start('orders', {
        SERVICE_CONSUMERS: 'off',
        INVENTORY_URL: inventory.url,
        PAYMENTS_URL: payments.url,
      })
    : orders;
  const urls: Urls = { orders: intake.url, inventory: inventory.url, payments: payments.url };
  const totalOrders = options.requests * 2 + options.warmup;
  log(`seeding ${options.users} customers and ${options.skus} SKUs (enough money and stock for every order)`);
  const { userIds, skuIds } = await world.seed(
    urls,
    options.users,
    Math.ceil(totalOrders / options.users + 1) * UNIT_PRICE,
    options.skus,
    Math.ceil(totalOrders / options.skus) + 1,
  );
  const order = (i: number) => ({
    method: 'POST' as const,
    path: '/orders',
    body: {
      userId: userIds[i % userIds.length],
      items: [{ sku: skuIds[i % skuIds.length], quantity: 1, unitPrice: UNIT_PRICE }],
    },
  });

  const db = new pg.Client({ connectionString: world.env.databaseUrl('orders') });
  await db.connect();
  try {
    if (options.warmup > 0) {
      log(`warm-up: ${options.warmup} orders over 1 s (JIT, connections), then wait for them to be stored`);
      await runOpenLoad({ baseUrl: urls.orders, requests: options.warmup, durationMs: 1_000, request: order });
      await waitUntil(async () => (await countOrders(db)).stored >= options.warmup, 60_000);
    }
    const asyncRun = await burstIntoQueue(world, db, urls, order);
    let sync: Record<string, unknown> | undefined;
    if (!options.skipSync) {
      log('waiting for every saga of the burst to end before the synchronous run (so it starts on a quiet system)');
      const settled = await waitUntil(async () => {
        const c = await countOrders(db);
        return c.decided === c.stored;
      }, options.drainTimeoutS * 1000);
      log(settled ? 'all sagas ended' : 'sagas still running after the timeout; the sync run starts anyway');
      sync = await burstIntoSync(world, urls, userIds, skuIds);
    }
    const report = {
      experiment: 'load-leveling',
      ranAt: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        memoryGb: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
        loadAverageAtStart,
        loadAverageAtEnd: os.loadavg().map(round),
      },
      command: `node experiments/dist/load-leveling.js ${process.argv.slice(2).join(' ')}`.trim(),
      options,
      ...asyncRun,
      ...(sync ? { sync } : {}),
    };
    writeJson(path.join(resultsDir, `${options.name}.json`), report);
    log(`wrote ${path.relative(process.cwd(), path.join(resultsDir, `${options.name}.json`))}`);
    for (const page of writeResultBlocks(repoRoot, `${options.name}.json`)) {
      log(`rewrote the figures of ${page} from it`);
    }
  } finally {
    await db.end();
  }
});

/** The burst into POST /orders, with the queue depth and the processing rate sampled alongside. */
async function burstIntoQueue(
  world: ExperimentWorld,
  db: pg.Client,
  urls: Urls,
  order: (i: number) => { method: 'POST'; path: string; body: unknown },
) {
  const depth = new QueueDepthSampler(world.env.adminAmqpUrl, Queues.orderProcessing, 100);
  const counts = new OrderCountSampler(world.env.databaseUrl('orders'), 250);
  const before = (await countOrders(db)).stored;
  // Orders that existed before the burst (the warm-up) are not the burst's.
  const earlier = new Set((await db.query<{ id: string }>('SELECT id FROM orders')).rows.map((r) => r.id));
  await depth.start();
  await counts.start();
  await sleep(500); // a few samples of the quiet queue before the burst
  log(`burst: ${options.requests} POST /orders in ${options.durationMs} ms (open model)`);
  const { start, results } = await runOpenLoad({
    baseUrl: urls.orders,
    requests: options.requests,
    durationMs: options.durationMs,
    request: order,
    maxSockets: options.maxSockets,
    keepBody: (status) => status === 202,
    onProgress: (sent, done) =>
      log(
        `sent ${sent}, answered ${done}, queue depth ${depth.latest()}, stored ${(counts.latest()?.stored ?? before) - before}`,
      ),
  });
  const accepted = results.filter((r) => r.status === 202);
  const lastAnswer = Math.max(...results.map((r) => r.endedAt));
  log(`burst answered: ${accepted.length} accepted (202), ${results.length - accepted.length} not; draining`);
  const drained = await waitUntil(
    async () => {
      const stored = (counts.latest()?.stored ?? 0) - before;
      log(`draining: queue depth ${depth.latest()}, stored ${stored} of ${accepted.length}`);
      return stored >= accepted.length && depth.latest() === 0;
    },
    options.drainTimeoutS * 1000,
    1_000,
  );
  await sleep(1_000); // the tail of the depth curve at zero
  await depth.stop();
  await counts.stop();

  const acceptedIds = new Set(accepted.map((r) => (r.body as { orderId: string }).orderId));
  const rows = (await db.query<{ id: string; created_at: Date }>('SELECT id, created_at FROM orders')).rows.filter(
    (r) => !earlier.has(r.id),
  );
  const storedIds = new Set(rows.map((r) => r.id));
  const lost = [...acceptedIds].filter((id) => !storedIds.has(id)).length;
  const extra = [...storedIds].filter((id) => !acceptedIds.has(id)).length;
  const processedAt = rows.filter((r) => acceptedIds.has(r.id)).map((r) => r.created_at.getTime());

  const burstEnd = start + options.durationMs;
  const peak = depth.samples.reduce((best, s) => (s.ready > best.ready ? s : best), {
    at: start,
    ready: 0,
    consumers: 0,
  });
  const emptyAgain = depth.samples.find((s) => s.at > peak.at && s.ready === 0);
  const lastProcessed = Math.max(...processedAt);
  // Processing rate over the drain: from the peak to the last order stored (the workers' plateau).
  const plateau = processedAt.filter((t) => t >= peak.at);
  const processingRate = plateau.length / Math.max(0.001, (lastProcessed - peak.at) / 1000);
  const predictedPeakDepth = Math.max(0, options.requests - (options.capacity * options.durationMs) / 1000);
  const predictedDrainSeconds = predictedPeakDepth / options.capacity;
  const span = Math.max(lastProcessed, emptyAgain?.at ?? 0, lastAnswer) - start + 2_000;

  const arrival = ratePerSecond(
    results.map((r) => r.sentAt),
    start,
    span,
    100,
  );
  const acceptedRate = ratePerSecond(
    accepted.map((r) => r.endedAt),
    start,
    span,
    100,
  );
  const processing = ratePerSecond(processedAt, start, span, 100);
  const depthSeries = depth.samples.map((s) => ({ t: (s.at - start) / 1000, v: s.ready }));
  const predicted = [0, options.durationMs / 1000, options.durationMs / 1000 + predictedDrainSeconds].map((t) => ({
    t,
    v: t === 0 ? 0 : Math.max(0, predictedPeakDepth - options.capacity * (t - options.durationMs / 1000)),
  }));

  writeCsv(
    path.join(resultsDir, `${options.name}.csv`),
    arrival.map((a, i) => ({
      t_s: a.t,
      arrival_per_s: a.v,
      accepted_per_s: acceptedRate[i]!.v,
      processed_per_s: processing[i]!.v,
      queue_depth_ready: nearestDepth(depth.samples, start + a.t * 1000),
    })),
  );
  writeCsv(
    path.join(resultsDir, `${options.name}-depth.csv`),
    depth.samples.map((s) => ({ t_s: (s.at - start) / 1000, ready: s.ready, consumers: s.consumers })),
  );
  writeCsv(path.join(resultsDir, `${options.name}-requests.csv`), requestRows(results, start));
  const intake = summarize(accepted.map((r) => r.latencyMs));
  writeChart(path.join(resultsDir, `${options.name}.svg`), {
    title: `Load leveling: ${options.requests.toLocaleString('en')} POST /orders in ${options.durationMs / 1000} s, workers capped at ${options.capacity.toLocaleString('en')}/s`,
    subtitle: `peak depth ${peak.ready.toLocaleString('en')} (predicted ${predictedPeakDepth.toLocaleString('en')}), drained ${emptyAgain ? ((emptyAgain.at - burstEnd) / 1000).toFixed(1) : '?'} s after the burst (predicted ${predictedDrainSeconds.toFixed(1)} s); intake p99 ${intake.p99Ms} ms; ${os.cpus().length} cores`,
    xLabel: 'seconds since the burst started',
    panels: [
      {
        yLabel: 'per second (100 ms buckets)',
        series: [
          { name: 'arrivals (POST /orders sent)', color: '#d62728', points: arrival, step: true },
          { name: 'accepted (202 answers)', color: '#ff7f0e', points: acceptedRate, step: true, dashed: true },
          { name: 'processed (orders stored by the worker)', color: '#1f77b4', points: processing, step: true },
        ],
        marks: [{ v: options.capacity, label: `capacity ${options.capacity}/s`, color: '#1f77b4' }],
      },
      {
        yLabel: 'order-processing depth (ready messages)',
        series: [
          { name: 'measured (passive declare every 100 ms)', color: '#2ca02c', points: depthSeries },
          { name: 'predicted (arrivals − capacity)', color: '#7f7f7f', points: predicted, dashed: true },
        ],
      },
    ],
  });
  log(
    `wrote ${options.name}.svg; peak depth ${peak.ready}, drain ${emptyAgain ? ((emptyAgain.at - burstEnd) / 1000).toFixed(2) : '?'} s, lost ${lost}`,
  );

  return {
    requests: results.length,
    accepted: accepted.length,
    errors: results.length - accepted.length,
    errorsByKind: byKind(results.filter((r) => r.status !== 202)),
    stored: processedAt.length,
    lost,
    unexpectedOrders: extra,
    drained,
    peakDepth: peak.ready,
    peakDepthAtSeconds: round((peak.at - start) / 1000),
    drainSeconds: emptyAgain ? round((emptyAgain.at - burstEnd) / 1000) : null,
    drainSecondsFromBurstStart: emptyAgain ? round((emptyAgain.at - start) / 1000) : null,
    lastOrderStoredSeconds: round((lastProcessed - start) / 1000),
    predictedPeakDepth,
    predictedDrainSeconds,
    processingRatePerSecond: round(processingRate),
    intakeP50Ms: intake.p50Ms,
    intakeP95Ms: intake.p95Ms,
    intakeP99Ms: intake.p99Ms,
    intakeMaxMs: intake.maxMs,
    lastAnswerSeconds: round((lastAnswer - start) / 1000),
    generatorSendLagP99Ms: summarize(results.map((r) => r.sentAt - r.scheduledAt)).p99Ms,
    depthMeasure:
      'ready messages from a passive queue declare every 100 ms (unacked in-flight messages, at most prefetch, not included)',
  };
}

/** The same burst against POST /orders/sync: every request waits for inventory and payments. */
async function burstIntoSync(world: ExperimentWorld, urls: Urls, userIds: string[], skuIds: string[]) {
  const requests = options.syncRequests || options.requests;
  log(`sync baseline: ${requests} POST /orders/sync in ${options.durationMs} ms (downstream timeout 5 s each)`);
  const since = new Date();
  const { start, results } = await runOpenLoad({
    baseUrl: urls.orders,
    requests,
    durationMs: options.durationMs,
    timeoutMs: options.syncTimeoutMs,
    maxSockets: options.maxSockets,
    request: (i) => ({
      method: 'POST',
      path: '/orders/sync',
      body: {
        userId: userIds[i % userIds.length],
        items: [{ sku: skuIds[i % skuIds.length], quantity: 1, unitPrice: UNIT_PRICE }],
      },
    }),
    onProgress: (sent, done, all) => {
      const finished = all.filter(Boolean);
      const ok = finished.filter((r) => r.status === 201).length;
      log(`sync: sent ${sent}, answered ${done} (201: ${ok}, other: ${finished.length - ok})`);
    },
  });
  const confirmed = results.filter((r) => r.status === 201);
  const businessNo = results.filter((r) => r.status === 409);
  const failed = results.filter((r) => r.status !== 201 && r.status !== 409);
  const end = Math.max(...results.map((r) => r.endedAt));
  const span = end - start + 1_000;
  await sleep(2_000);
  const stored = await world.query<{ status: string; reason: string | null; n: number }>(
    'orders',
    `SELECT status, reason, count(*)::int AS n FROM orders WHERE created_at >= $1 GROUP BY status, reason ORDER BY n DESC`,
    [since],
  );
  const latencyBySend = bucketLatency(results, start, span, 250);
  writeCsv(path.join(resultsDir, `${options.name}-sync.csv`), requestRows(results, start));
  writeChart(path.join(resultsDir, `${options.name}-sync.svg`), {
    title: `Synchronous baseline: ${requests.toLocaleString('en')} POST /orders/sync in ${options.durationMs / 1000} s`,
    subtitle: `201 ${confirmed.length}, 409 ${businessNo.length}, errors/timeouts ${failed.length}; p99 ${summarize(results.map((r) => r.latencyMs)).p99Ms} ms`,
    xLabel: 'seconds since the burst started',
    panels: [
      {
        yLabel: 'per second (250 ms buckets)',
        series: [
          {
            name: 'arrivals (sent)',
            color: '#d62728',
            points: ratePerSecond(
              results.map((r) => r.sentAt),
              start,
              span,
              250,
            ),
            step: true,
          },
          {
            name: '201 confirmed (by answer time)',
            color: '#1f77b4',
            points: ratePerSecond(
              confirmed.map((r) => r.endedAt),
              start,
              span,
              250,
            ),
            step: true,
          },
          {
            name: 'errors and timeouts (by answer time)',
            color: '#9467bd',
            points: ratePerSecond(
              failed.map((r) => r.endedAt),
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
          { name: 'median', color: '#2ca02c', points: latencyBySend.map((b) => ({ t: b.t, v: b.p50 })) },
          { name: 'max', color: '#8c564b', points: latencyBySend.map((b) => ({ t: b.t, v: b.max })) },
        ],
        marks: [{ v: 5_000, label: 'downstream call timeout 5 s' }],
      },
    ],
  });
  log(`sync baseline: 201 ${confirmed.length}, 409 ${businessNo.length}, failed ${failed.length}`);
  return {
    requests: results.length,
    confirmed201: confirmed.length,
    cancelled409: businessNo.length,
    errors: failed.length,
    errorsByKind: byKind(failed),
    latency: summarize(results.map((r) => r.latencyMs)),
    latencyOf201: summarize(confirmed.map((r) => r.latencyMs)),
    lastAnswerSeconds: round((end - start) / 1000),
    storedByStatus: stored,
    // Orders the server confirmed although the caller saw an error or gave up: a retry would order twice.
    confirmedWithoutA201: Math.max(0, (stored.find((r) => r.status === 'CONFIRMED')?.n ?? 0) - confirmed.length),
  };
}

function byKind(results: readonly LoadResult[]): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const r of results) {
    const kind = r.status === 0 ? (r.error ?? 'error') : `http_${r.status}`;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

function requestRows(results: readonly LoadResult[], start: number) {
  return results.map((r) => ({
    index: r.index,
    scheduled_s: (r.scheduledAt - start) / 1000,
    sent_s: (r.sentAt - start) / 1000,
    answered_s: (r.endedAt - start) / 1000,
    latency_ms: r.latencyMs,
    status: r.status,
    error: r.error ?? '',
  }));
}

function bucketLatency(results: readonly LoadResult[], start: number, span: number, bucketMs: number) {
  const buckets = new Map<number, number[]>();
  for (const r of results) {
    const i = Math.floor((r.sentAt - start) / bucketMs);
    buckets.set(i, [...(buckets.get(i) ?? []), r.latencyMs]);
  }
  return [...buckets.entries()]
    .filter(([i]) => i * bucketMs < span)
    .sort(([a], [b]) => a - b)
    .map(([i, values]) => {
      const s = summarize(values);
      return { t: (i * bucketMs) / 1000, p50: s.p50Ms, max: s.maxMs };
    });
}

function nearestDepth(samples: readonly { at: number; ready: number }[], at: number): number | undefined {
  let best: { at: number; ready: number } | undefined;
  for (const s of samples) if (s.at <= at) best = s;
  return best?.ready;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = epochMs() + timeoutMs;
  while (epochMs() < deadline) {
    if (await probe()) return true;
    await sleep(intervalMs);
  }
  return false;
}
