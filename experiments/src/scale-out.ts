/**
 * Scaled workers, measured: the same backlog of orders drained by 1, 2 and 4 processes of each saga service
 * (orders, inventory, payments; competing consumers on every saga queue), uncapped. The backlog is posted while every
 * orders worker is stopped by its own runtime switch (the `stop-consumers` fault), so it waits whole in
 * `order-processing`; then the workers are let go. For each count: the time from their start to the last order decided, the sagas per second that makes, and the CPU time the saga's
 * processes spent per saga (read from /proc: it moves less than throughput when the machine is busy). On a machine
 * of few cores the curve flattens as soon as the processes outnumber the cores: the figures say where.
 *
 *   npx tsc -b && npm run experiment:scale-out                       # 1, 2 and 4 instances, 1,000 orders each
 *   npm run experiment:scale-out -- --instances 1,2 --orders 500
 *
 * Writes experiments/results/scale-out.{json,csv,svg}, and the table in docs/clusters.md from them.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { http, type ServiceProcess } from '@am/testing';
import { Queues } from '@am/messaging';
import { parseArgs } from './lib/args.js';
import { epochMs, progress, sleep } from './lib/clock.js';
import { runOpenLoad } from './lib/load-generator.js';
import { countOrders } from './lib/samplers.js';
import { loadAverage, machineInfo, writeCsv, writeJson } from './lib/stats.js';
import { writeChart } from './lib/svg-chart.js';
import { writeResultBlocks } from './lib/results-tables.js';
import { repoRoot, resultsDir, withWorld } from './lib/world.js';

const options = parseArgs({
  name: 'scale-out',
  /** How many processes of each saga service, one run per count. */
  instances: '1,2,4',
  /** The backlog each run drains. */
  orders: 1_000,
  /** Over how long the backlog is posted (the intake is not what is measured here). */
  postMs: 4_000,
  /** Enough customers and SKUs that the workers do not queue on a few hot stock rows (that is another lesson). */
  users: 300,
  skus: 1_000,
  warmup: 100,
  drainTimeoutS: 300,
});
const counts = options.instances.split(',').map((c) => {
  const n = Number(c.trim());
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new Error(`--instances: ${c} is not a count from 1 to 8`);
  return n;
});

const started = epochMs();
const log = (message: string) => progress(started, message);
const UNIT_PRICE = 100;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** CPU time (user + system) a process has used so far, in ms; clock ticks from /proc/<pid>/stat. */
function cpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // After the command: state is field 3, utime field 14, stime field 15 (1-based, as in proc(5)).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

interface RunResult {
  instances: number;
  processes: number;
  orders: number;
  drainSeconds: number;
  sagasPerSecond: number;
  cpuMsPerSaga: number;
  confirmed: number;
  cancelled: number;
  loadAverageAfter: number[];
}

async function run(instances: number): Promise<RunResult> {
  return withWorld({}, async (world) => {
    log(
      `${instances} × (orders, inventory, payments): starting ${instances * 3} processes in world ${world.env.vhost}`,
    );
    const allowed = { FAULTS_ALLOWED: '1' };
    const first = await world.startSaga(1_000_000, 50, allowed);
    const processes: ServiceProcess[] = [first.orders, first.inventory, first.payments];
    const workers: ServiceProcess[] = [first.orders];
    const wired = { INVENTORY_URL: first.inventory.url, PAYMENTS_URL: first.payments.url };
    for (let i = 1; i < instances; i++) {
      const [inventory, payments, orders] = await Promise.all([
        world.start('inventory'),
        world.start('payments'),
        world.start('orders', {
          ORDER_PROCESSING_PREFETCH: '50',
          SAGA_STEP_TIMEOUT_MS: '600000',
          ...wired,
          ...allowed,
        }),
      ]);
      processes.push(inventory, payments, orders);
      workers.push(orders);
    }
    const urls = { orders: first.orders.url, inventory: first.inventory.url, payments: first.payments.url };
    const order = await world.seedOrders(
      urls,
      options.users,
      options.skus,
      options.orders + options.warmup,
      UNIT_PRICE,
    );
    const db = new pg.Client({ connectionString: world.env.databaseUrl('orders') });
    await db.connect();
    try {
      const until = async (what: string, decided: number) => {
        const deadline = Date.now() + options.drainTimeoutS * 1000;
        let last = -1;
        for (;;) {
          const now = await countOrders(db);
          if (now.decided >= decided) return;
          if (Date.now() > deadline)
            throw new Error(`${what}: ${now.decided} of ${decided} decided after ${options.drainTimeoutS} s`);
          if (now.decided !== last && now.decided % 250 < 50) log(`${what}: ${now.decided} of ${decided} decided`);
          last = now.decided;
          await sleep(100);
        }
      };
      await runOpenLoad({ baseUrl: urls.orders, requests: options.warmup, durationMs: 1_000, request: order });
      await until('warm-up', options.warmup);
      // The backlog, whole in the queue before any worker takes from it.
      const stops = await Promise.all(
        workers.map(async (w) => {
          const on = await http<{ id: string }>('POST', `${w.url}/faults`, {
            kind: 'stop-consumers',
            source: Queues.orderProcessing,
            durationS: 600,
          });
          if (on.status !== 201) throw new Error(`stop-consumers on ${w.url}: ${on.status} ${JSON.stringify(on.body)}`);
          return { worker: w, id: on.body.id };
        }),
      );
      log(`posting ${options.orders} orders over ${options.postMs / 1000} s, every orders worker stopped`);
      const posted = await runOpenLoad({
        baseUrl: urls.orders,
        requests: options.orders,
        durationMs: options.postMs,
        request: (i) => order(options.warmup + i),
      });
      const refused = posted.results.filter((r) => r.status !== 202).length;
      if (refused > 0) throw new Error(`${refused} of ${options.orders} orders were not accepted`);
      const cpuBefore = processes.reduce((sum, p) => sum + cpuMs(p.pid), 0);
      const t0 = epochMs();
      await Promise.all(stops.map((s) => http('DELETE', `${s.worker.url}/faults/${s.id}`)));
      log(`${instances} orders worker(s) let go on a backlog of ${options.orders}`);
      await until('drain', options.warmup + options.orders);
      const seconds = (epochMs() - t0) / 1000;
      const cpu = processes.reduce((sum, p) => sum + cpuMs(p.pid), 0) - cpuBefore;
      const { rows } = await db.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM orders GROUP BY status',
      );
      const of = (status: string) => rows.find((r) => r.status === status)?.n ?? 0;
      const result: RunResult = {
        instances,
        processes: processes.length,
        orders: options.orders,
        drainSeconds: round(seconds, 2),
        sagasPerSecond: round(options.orders / seconds),
        cpuMsPerSaga: round(cpu / options.orders, 2),
        confirmed: of('CONFIRMED'),
        cancelled: of('CANCELLED'),
        loadAverageAfter: loadAverage(),
      };
      log(
        `${instances} instance(s): ${result.sagasPerSecond} sagas/s, drained in ${result.drainSeconds} s, ${result.cpuMsPerSaga} ms CPU per saga`,
      );
      return result;
    } finally {
      await db.end();
    }
  });
}

const loadAverageAtStart = loadAverage();
const results: RunResult[] = [];
for (const n of counts) results.push(await run(n));
const base = results[0]!;
const report = {
  experiment: 'scale-out',
  ranAt: new Date().toISOString(),
  machine: machineInfo(loadAverageAtStart),
  command: `node experiments/dist/scale-out.js ${process.argv.slice(2).join(' ')}`.trim(),
  options,
  runs: results.map((r) => ({ ...r, speedup: round(r.sagasPerSecond / base.sagasPerSecond, 2) })),
};
writeJson(path.join(resultsDir, `${options.name}.json`), report);
writeCsv(
  path.join(resultsDir, `${options.name}.csv`),
  report.runs.map((r) => ({
    instances: r.instances,
    sagas_per_s: r.sagasPerSecond,
    drain_s: r.drainSeconds,
    cpu_ms_per_saga: r.cpuMsPerSaga,
    speedup: r.speedup,
  })),
);
writeChart(path.join(resultsDir, `${options.name}.svg`), {
  title: `Scaled workers: ${options.orders.toLocaleString('en')} orders drained by 1 to ${counts.at(-1)} processes of each saga service`,
  subtitle: `${os.cpus().length} cores; dashed: linear scaling from one instance`,
  xLabel: 'instances of each saga service',
  panels: [
    {
      yLabel: 'sagas/s',
      series: [
        { name: 'measured', color: '#2563eb', points: results.map((r) => ({ t: r.instances, v: r.sagasPerSecond })) },
        {
          name: 'linear',
          color: '#9ca3af',
          dashed: true,
          points: results.map((r) => ({ t: r.instances, v: base.sagasPerSecond * r.instances })),
        },
      ],
    },
    {
      yLabel: 'CPU ms per saga',
      series: [
        { name: 'CPU per saga', color: '#dc2626', points: results.map((r) => ({ t: r.instances, v: r.cpuMsPerSaga })) },
      ],
    },
  ],
  xMarks: [{ t: os.cpus().length, label: `${os.cpus().length} cores` }],
});
log(`wrote experiments/results/${options.name}.{json,csv,svg}`);
for (const page of writeResultBlocks(repoRoot, `${options.name}.json`)) log(`rewrote the figures of ${page} from it`);
