/**
 * The load-leveling experiment as one function: the CLI (experiments/src/load-leveling.ts) and the control room's
 * burst lab (services/console, which runs the CLI as a child process with `--progress json`) both run this, so a
 * lab run and a CLI run of the same parameters write the same files. See load-leveling.ts for what it measures.
 */
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Queues } from '@am/messaging';
import { serviceToken } from '@am/testing';
import { predictFillAndDrain, type BurstParams, type FillAndDrain } from './burst-model.js';
import { epochMs, sleep } from './clock.js';
import { runOpenLoad, type LoadResult } from './load-generator.js';
import { OrderCountSampler, QueueDepthSampler, countOrders } from './samplers.js';
import { loadAverage, machineInfo, ratePerSecond, summarize, writeCsv, writeJson } from './stats.js';
import { writeChart } from './svg-chart.js';
import { withWorld, type ExperimentWorld } from './world.js';

/** The experiment's parameters (all of them go into the report's `options`). */
export interface LoadLevelingOptions extends BurstParams {
  /** Base name of the result files. */
  name: string;
  users: number;
  skus: number;
  warmup: number;
  maxSockets: number;
  drainTimeoutS: number;
  skipSync: boolean;
  syncRequests: number;
  syncTimeoutMs: number;
  /** Take the requests in a second orders process that consumes nothing (SERVICE_CONSUMERS=off). */
  splitIntake: boolean;
}

export const LOAD_LEVELING_DEFAULTS: LoadLevelingOptions = {
  name: 'load-leveling',
  requests: 10_000,
  durationMs: 1_000,
  capacity: 1_000,
  prefetch: 50,
  maxLength: 0,
  users: 100,
  skus: 20,
  warmup: 300,
  maxSockets: 1_000,
  drainTimeoutS: 180,
  skipSync: false,
  syncRequests: 0,
  syncTimeoutMs: 30_000,
  splitIntake: false,
};

export interface Percentiles {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

/** What the run reports while it runs (the lab streams these to its page). Times: seconds since the burst started. */
export type BurstEvent =
  | { type: 'phase'; phase: BurstPhase; message: string }
  | { type: 'start'; predicted: FillAndDrain }
  | ({ type: 'sample' } & BurstSample)
  | { type: 'done'; file: string; report: Record<string, unknown> };

export type BurstPhase = 'world' | 'seeding' | 'warm-up' | 'burst' | 'draining' | 'settling' | 'sync' | 'writing';

export interface BurstSample {
  t: number;
  /** The depth samples taken since the last event. */
  depth: { t: number; ready: number }[];
  /** Requests due by now (the open model's schedule) and answered so far. */
  scheduled: number;
  answered: number;
  accepted: number;
  rejected503: number;
  /** The Retry-After of the latest 503. */
  retryAfter: string | null;
  otherErrors: number;
  /** Latency of the 202 answers so far. */
  intake: Percentiles | null;
  /** Orders the worker has stored, and of them the ones whose saga has ended. */
  stored: number;
  decided: number;
  /** From an accepted order's POST to the end of its saga, over the ended ones so far. */
  confirm: Percentiles | null;
  /** Connections of this world RabbitMQ reports blocked or blocking (a resource alarm); null if not read. */
  blockedConnections: number | null;
}

export interface RunContext {
  resultsDir: string;
  /** The command line that reproduces the run (goes into the report). */
  command: string;
  log: (message: string) => void;
  onEvent?: (event: BurstEvent) => void;
  /** Fields added at the end of the report (the lab's run id and operator). */
  extra?: Record<string, unknown>;
}

const UNIT_PRICE = 100;
type Order = (i: number) => { method: 'POST'; path: string; body: unknown };

interface Urls {
  orders: string;
  inventory: string;
  payments: string;
}

/** Runs the experiment in a world of its own; writes `<resultsDir>/<name>.{json,csv,svg}` and returns the report. */
export async function runLoadLeveling(
  options: LoadLevelingOptions,
  context: RunContext,
): Promise<{ file: string; report: Record<string, unknown> }> {
  // Other work on the machine skews every figure here: the load average goes into the report.
  const loadAverageAtStart = loadAverage();
  const emit = (event: BurstEvent) => context.onEvent?.(event);
  const say = (phase: BurstPhase, message: string) => {
    context.log(message);
    emit({ type: 'phase', phase, message });
  };
  const worldOptions =
    options.maxLength > 0 ? { queuePolicies: { [Queues.orderProcessing]: { 'max-length': options.maxLength } } } : {};

  return withWorld(worldOptions, async (world) => {
    say(
      'world',
      `world ${world.env.vhost}: starting inventory, payments and orders (capacity ${options.capacity}/s${options.maxLength > 0 ? `, order-processing bounded at ${options.maxLength}` : ''})`,
    );
    const { orders, inventory, payments } = await world.startSaga(options.capacity, options.prefetch);
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
    say(
      'seeding',
      `seeding ${options.users} customers and ${options.skus} SKUs (enough money and stock for every order)`,
    );
    const order: Order = await world.seedOrders(urls, options.users, options.skus, totalOrders, UNIT_PRICE);

    const db = new pg.Client({ connectionString: world.env.databaseUrl('orders') });
    await db.connect();
    try {
      if (options.warmup > 0) {
        say(
          'warm-up',
          `warm-up: ${options.warmup} orders over 1 s (JIT, connections), then wait for them to be stored`,
        );
        await runOpenLoad({ baseUrl: urls.orders, requests: options.warmup, durationMs: 1_000, request: order });
        await waitUntil(async () => (await countOrders(db)).stored >= options.warmup, 60_000);
      }
      const asyncRun = await burstIntoQueue(options, context, world, db, urls, order, say, emit);
      let sync: Record<string, unknown> | undefined;
      if (!options.skipSync) {
        say('sync', 'every saga of the burst has ended (or timed out): the synchronous run starts on a quiet system');
        sync = await burstIntoSync(options, context, world, urls, order);
      }
      const report = {
        experiment: 'load-leveling',
        ranAt: new Date().toISOString(),
        machine: machineInfo(loadAverageAtStart),
        command: context.command,
        options,
        ...asyncRun,
        ...(sync ? { sync } : {}),
        ...context.extra,
      };
      const file = path.join(context.resultsDir, `${options.name}.json`);
      writeJson(file, report);
      say('writing', `wrote ${path.relative(process.cwd(), file)}`);
      emit({ type: 'done', file, report });
      return { file, report };
    } finally {
      await db.end();
    }
  });
}

/** The burst into POST /orders, with the queue depth, the processing and the sagas' ends sampled alongside. */
async function burstIntoQueue(
  options: LoadLevelingOptions,
  context: RunContext,
  world: ExperimentWorld,
  db: pg.Client,
  urls: Urls,
  order: Order,
  say: (phase: BurstPhase, message: string) => void,
  emit: (event: BurstEvent) => void,
) {
  const { resultsDir, log } = context;
  const depth = new QueueDepthSampler(world.env.adminAmqpUrl, Queues.orderProcessing, 100);
  const counts = new OrderCountSampler(world.env.databaseUrl('orders'), 250);
  const before = (await countOrders(db)).stored;
  // Orders that existed before the burst (the warm-up) are not the burst's.
  const earlier = new Set((await db.query<{ id: string }>('SELECT id FROM orders')).rows.map((r) => r.id));
  const prediction = predictFillAndDrain(options);
  await depth.start();
  await counts.start();
  await sleep(500); // a few samples of the quiet queue before the burst
  const live = new LiveFigures(options, world, db, depth, counts, before, earlier);
  say('burst', `burst: ${options.requests} POST /orders in ${options.durationMs} ms (open model)`);
  const token = await serviceToken();
  live.begin(epochMs());
  emit({ type: 'start', predicted: prediction });
  const reporter = context.onEvent ? setInterval(() => void live.sample().then(emit, () => undefined), 500) : undefined;
  try {
    const { start, results } = await runOpenLoad({
      baseUrl: urls.orders,
      requests: options.requests,
      durationMs: options.durationMs,
      request: order,
      token,
      maxSockets: options.maxSockets,
      keepBody: (status) => status === 202,
      onResult: (r) => live.answered(r),
      onProgress: (sent, done) =>
        log(
          `sent ${sent}, answered ${done}, queue depth ${depth.latest()}, stored ${(counts.latest()?.stored ?? before) - before}`,
        ),
    });
    live.begin(start);
    const accepted = results.filter((r) => r.status === 202);
    const rejected = results.filter((r) => r.status === 503);
    const lastAnswer = Math.max(...results.map((r) => r.endedAt));
    say(
      'draining',
      `burst answered: ${accepted.length} accepted (202), ${rejected.length} refused (503), ${results.length - accepted.length - rejected.length} other; draining`,
    );
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
    say('settling', 'waiting for every saga of the burst to end (reservation, payment, confirmation)');
    const settled = await waitUntil(async () => {
      const c = counts.latest();
      return c !== undefined && c.decided === c.stored;
    }, options.drainTimeoutS * 1000);
    log(settled ? 'all sagas ended' : 'sagas still running after the timeout');
    await counts.stop();
    if (reporter) {
      clearInterval(reporter);
      emit(await live.sample());
    }

    const acceptedIds = new Set(accepted.map((r) => (r.body as { orderId: string }).orderId));
    const rows = (
      await db.query<{ id: string; created_at: Date; updated_at: Date; status: string }>(
        'SELECT id, created_at, updated_at, status FROM orders',
      )
    ).rows.filter((r) => !earlier.has(r.id));
    const storedIds = new Set(rows.map((r) => r.id));
    const lost = [...acceptedIds].filter((id) => !storedIds.has(id)).length;
    const extra = [...storedIds].filter((id) => !acceptedIds.has(id)).length;
    const processedAt = rows.filter((r) => acceptedIds.has(r.id)).map((r) => r.created_at.getTime());
    const ended = rows.filter((r) => acceptedIds.has(r.id) && r.status !== 'PENDING');
    const sentAt = new Map(accepted.map((r) => [(r.body as { orderId: string }).orderId, r.scheduledAt]));
    const confirm = summarize(ended.map((r) => r.updated_at.getTime() - sentAt.get(r.id)!));

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
    const predictedPeakDepth = prediction.peakDepth;
    const predictedDrainSeconds = prediction.drainSeconds;
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
    const rejectedRate = ratePerSecond(
      rejected.map((r) => r.endedAt),
      start,
      span,
      100,
    );
    const processing = ratePerSecond(processedAt, start, span, 100);
    const depthSeries = depth.samples.map((s) => ({ t: (s.at - start) / 1000, v: s.ready }));

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
    const bound = options.maxLength > 0 ? `, queue bounded at ${options.maxLength.toLocaleString('en')}` : '';
    writeChart(path.join(resultsDir, `${options.name}.svg`), {
      title: `Load leveling: ${options.requests.toLocaleString('en')} POST /orders in ${options.durationMs / 1000} s, workers capped at ${options.capacity.toLocaleString('en')}/s${bound}`,
      subtitle: `peak depth ${peak.ready.toLocaleString('en')} (predicted ${predictedPeakDepth.toLocaleString('en')}), drained ${emptyAgain ? ((emptyAgain.at - burstEnd) / 1000).toFixed(1) : '?'} s after the burst (predicted ${predictedDrainSeconds.toFixed(1)} s); intake p99 ${intake.p99Ms} ms${rejected.length ? `; ${rejected.length} refused (503)` : ''}; ${os.cpus().length} cores`,
      xLabel: 'seconds since the burst started',
      panels: [
        {
          yLabel: 'per second (100 ms buckets)',
          series: [
            { name: 'arrivals (POST /orders sent)', color: '#d62728', points: arrival, step: true },
            { name: 'accepted (202 answers)', color: '#ff7f0e', points: acceptedRate, step: true, dashed: true },
            ...(rejected.length
              ? [{ name: 'refused (503 + Retry-After)', color: '#9467bd', points: rejectedRate, step: true }]
              : []),
            { name: 'processed (orders stored by the worker)', color: '#1f77b4', points: processing, step: true },
          ],
          marks: [{ v: options.capacity, label: `capacity ${options.capacity}/s`, color: '#1f77b4' }],
        },
        {
          yLabel: 'order-processing depth (ready messages)',
          series: [
            { name: 'measured (passive declare every 100 ms)', color: '#2ca02c', points: depthSeries },
            { name: 'predicted (arrivals − capacity)', color: '#7f7f7f', points: prediction.points, dashed: true },
          ],
          ...(options.maxLength > 0
            ? {
                marks: [
                  { v: options.maxLength, label: `max-length ${options.maxLength} (reject-publish)`, color: '#d62728' },
                ],
              }
            : {}),
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
      rejected503: rejected.length,
      rejectedWithRetryAfter: rejected.filter((r) => r.retryAfter !== undefined).length,
      retryAfterValues: [...new Set(rejected.flatMap((r) => (r.retryAfter === undefined ? [] : [r.retryAfter])))],
      rejectedP99Ms: summarize(rejected.map((r) => r.latencyMs)).p99Ms,
      predictedRefused: round(prediction.refused),
      predictedBoundReachedSeconds:
        prediction.boundReachedSeconds === null ? null : round(prediction.boundReachedSeconds),
      sagasEnded: ended.length,
      sagasConfirmed: ended.filter((r) => r.status === 'CONFIRMED').length,
      sagasCancelled: ended.filter((r) => r.status === 'CANCELLED').length,
      allSagasEnded: ended.length === accepted.length,
      confirmP50Ms: confirm.p50Ms,
      confirmP95Ms: confirm.p95Ms,
      confirmP99Ms: confirm.p99Ms,
      confirmMaxMs: confirm.maxMs,
      confirmMeasure: "from an accepted order's scheduled POST to its saga's end (the order's updated_at)",
      blockedConnectionsPeak: live.blockedPeak,
    };
  } finally {
    if (reporter) clearInterval(reporter);
  }
}

/** The figures of a burst so far, for the lab's progress events. */
class LiveFigures {
  private start = 0;
  private depthSent = 0;
  private readonly intake: number[] = [];
  private readonly sentAt = new Map<string, number>();
  private readonly ended = new Map<string, number>();
  private accepted = 0;
  private rejected = 0;
  private other = 0;
  private answers = 0;
  private retryAfter: string | null = null;
  private endedSince = 0;
  private blocked: number | null = null;
  blockedPeak: number | null = null;
  private busy = false;
  private lastBlockedRead = 0;

  constructor(
    private readonly options: LoadLevelingOptions,
    private readonly world: ExperimentWorld,
    private readonly db: pg.Client,
    private readonly depth: QueueDepthSampler,
    private readonly counts: OrderCountSampler,
    private readonly before: number,
    private readonly earlier: Set<string>,
  ) {}

  begin(start: number): void {
    this.start = start;
  }

  answered(r: LoadResult): void {
    this.answers++;
    if (r.status === 202) {
      this.accepted++;
      this.intake.push(r.latencyMs);
      const id = (r.body as { orderId?: string } | undefined)?.orderId;
      if (id) this.sentAt.set(id, r.scheduledAt);
    } else if (r.status === 503) {
      this.rejected++;
      this.retryAfter = r.retryAfter ?? null;
    } else this.other++;
  }

  async sample(): Promise<{ type: 'sample' } & BurstSample> {
    const now = epochMs();
    if (!this.busy) {
      this.busy = true;
      try {
        await this.readEnded();
        if (now - this.lastBlockedRead >= 2_000) {
          this.lastBlockedRead = now;
          this.blocked = await blockedConnections(this.world);
          if (this.blocked !== null) this.blockedPeak = Math.max(this.blockedPeak ?? 0, this.blocked);
        }
      } finally {
        this.busy = false;
      }
    }
    const newDepth = this.depth.samples.slice(this.depthSent);
    this.depthSent += newDepth.length;
    const counts = this.counts.latest();
    const interval = this.options.requests > 1 ? this.options.durationMs / this.options.requests : 0;
    const confirm = [...this.ended].flatMap(([id, at]) => {
      const sent = this.sentAt.get(id);
      return sent === undefined ? [] : [at - sent];
    });
    return {
      type: 'sample',
      t: round((now - this.start) / 1000),
      depth: newDepth.map((s) => ({ t: round((s.at - this.start) / 1000), ready: s.ready })),
      scheduled: Math.min(this.options.requests, interval ? Math.floor((now - this.start) / interval) + 1 : 0),
      answered: this.answers,
      accepted: this.accepted,
      rejected503: this.rejected,
      retryAfter: this.retryAfter,
      otherErrors: this.other,
      intake: percentiles(this.intake),
      stored: Math.max(0, (counts?.stored ?? this.before) - this.before),
      decided: Math.max(0, (counts?.decided ?? this.before) - this.before),
      confirm: percentiles(confirm),
      blockedConnections: this.blocked,
    };
  }

  /** The orders whose saga ended since the last read, with when (their updated_at). */
  private async readEnded(): Promise<void> {
    const { rows } = await this.db.query<{ id: string; at: number }>(
      `SELECT id, (extract(epoch FROM updated_at) * 1000)::float8 AS at FROM orders
        WHERE status <> 'PENDING' AND updated_at >= to_timestamp($1 / 1000.0)`,
      [this.endedSince],
    );
    for (const r of rows) {
      if (this.earlier.has(r.id)) continue;
      this.ended.set(r.id, r.at);
      this.endedSince = Math.max(this.endedSince, r.at - 1);
    }
  }
}

function percentiles(values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null;
  const { p50Ms, p95Ms, p99Ms } = summarize(values);
  return { p50Ms, p95Ms, p99Ms };
}

/** Connections in this world's vhost that RabbitMQ reports `blocked` or `blocking` (its management API). */
async function blockedConnections(world: ExperimentWorld): Promise<number | null> {
  const { managementUrl, user, password } = world.env.admin;
  try {
    const answer = await fetch(
      new URL(`/api/vhosts/${encodeURIComponent(world.env.vhost)}/connections?columns=state`, managementUrl),
      {
        headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
        signal: AbortSignal.timeout(2_000),
      },
    );
    if (!answer.ok) return null;
    const connections = (await answer.json()) as { state?: string }[];
    return connections.filter((c) => c.state === 'blocked' || c.state === 'blocking').length;
  } catch {
    return null;
  }
}

/** The same burst against POST /orders/sync: every request waits for inventory and payments. */
async function burstIntoSync(
  options: LoadLevelingOptions,
  context: RunContext,
  world: ExperimentWorld,
  urls: Urls,
  order: Order,
) {
  const { resultsDir, log } = context;
  const requests = options.syncRequests || options.requests;
  log(`sync baseline: ${requests} POST /orders/sync in ${options.durationMs} ms (downstream timeout 5 s each)`);
  const since = new Date();
  const { start, results } = await runOpenLoad({
    baseUrl: urls.orders,
    requests,
    durationMs: options.durationMs,
    timeoutMs: options.syncTimeoutMs,
    maxSockets: options.maxSockets,
    request: (i) => ({ ...order(i), path: '/orders/sync' }),
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
