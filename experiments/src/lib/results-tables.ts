import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The experiments' figures as Markdown, rendered from their result files, for the blocks between
 * `<!-- results:<name>:begin -->` and `<!-- results:<name>:end -->` in the docs. The experiment runners rewrite the
 * blocks after a run; `tests/docs/results.unit.spec.ts` fails when a block differs from its result file, so a page
 * cannot show a figure the files do not hold.
 */

interface Latency {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

/** The fields of `experiments/results/<name>.json` (load-leveling.ts) that the tables show. */
export interface LoadLevelingResult {
  command: string;
  machine: { cpus: number; cpuModel: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  ranAt?: string;
  options: { requests: number; durationMs: number; capacity: number; prefetch: number; splitIntake?: boolean };
  requests: number;
  accepted: number;
  errors: number;
  lost: number;
  drained: boolean;
  peakDepth: number;
  peakDepthAtSeconds: number;
  drainSeconds: number;
  drainSecondsFromBurstStart: number;
  predictedPeakDepth: number;
  predictedDrainSeconds: number;
  processingRatePerSecond: number;
  intakeP50Ms: number;
  intakeP95Ms: number;
  intakeP99Ms: number;
  lastAnswerSeconds: number;
  sync?: {
    requests: number;
    confirmed201: number;
    cancelled409: number;
    errors: number;
    latency: Latency;
    lastAnswerSeconds: number;
  };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const dec = (n: number, digits = 1) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const seconds = (ms: number) => `${dec(ms / 1000)} s`;
const within = (measured: number, predicted: number) =>
  predicted > 0 ? `${measured >= predicted ? '+' : ''}${int(((measured - predicted) / predicted) * 100)} %` : '';

/** The run's identity: when, command, machine, load. */
function runHeader(r: Pick<LoadLevelingResult, 'ranAt' | 'command' | 'machine'>): string {
  const load = (l: number[]) => l.map((x) => dec(x, 2)).join(' ');
  return (
    `Run${r.ranAt ? ` of ${r.ranAt.slice(0, 16).replace('T', ' ')} UTC` : ''}: \`${r.command}\` on ${r.machine.cpus} × ` +
    `${r.machine.cpuModel}; load average ${load(r.machine.loadAverageAtStart)} at the start, ` +
    `${load(r.machine.loadAverageAtEnd)} at the end.`
  );
}

/** The run's identity, and whether the API and the worker shared a process. */
export function runLine(r: LoadLevelingResult): string {
  return (
    `${runHeader(r)} ` +
    (r.options.splitIntake
      ? 'The API and the worker ran as two orders processes (`SERVICE_CONSUMERS=off` on the API).'
      : 'The API and the worker shared one orders process.')
  );
}

/** The burst through the queue against the model's prediction. */
export function burstTable(r: LoadLevelingResult): string {
  const burstS = r.options.durationMs / 1000;
  return [
    runLine(r),
    '',
    '| | measured | predicted (the article’s model) | difference |',
    '|---|---|---|---|',
    `| requests / accepted (202) / errors | ${int(r.requests)} / **${int(r.accepted)}** / **${int(r.errors)}** | all accepted | |`,
    `| lost (accepted, never stored) | **${int(r.lost)}** (ids checked one by one) | 0 | |`,
    `| last 202 answered | ${dec(r.lastAnswerSeconds, 2)} s after the first request was scheduled | ${dec(burstS)} s | |`,
    `| intake latency p50 / p95 / p99 | ${seconds(r.intakeP50Ms)} / ${seconds(r.intakeP95Ms)} / ${seconds(r.intakeP99Ms)} | | |`,
    `| peak queue depth | ${int(r.peakDepth)} ready messages, at ${dec(r.peakDepthAtSeconds)} s | ${int(r.predictedPeakDepth)}, at ${dec(burstS)} s | ${within(r.peakDepth, r.predictedPeakDepth)} |`,
    `| queue empty again, after the burst | ${r.drained ? `${dec(r.drainSeconds, 2)} s` : 'not drained'} | ${dec(r.predictedDrainSeconds)} s | ${r.drained ? within(r.drainSeconds, r.predictedDrainSeconds) : ''} |`,
    `| processing rate over the drain | ${dec(r.processingRatePerSecond)} orders/s | ${int(r.options.capacity)}/s (the knob) | ${within(r.processingRatePerSecond, r.options.capacity)} |`,
  ].join('\n');
}

/** The same burst through the queue and through the synchronous endpoint. */
export function syncTable(r: LoadLevelingResult): string {
  const s = r.sync;
  if (!s) return '_This run skipped the synchronous baseline (`--skip-sync`)._';
  return [
    `| | \`POST /orders\` (queue), ${int(r.requests)} in ${dec(r.options.durationMs / 1000)} s | \`POST /orders/sync\`, ${int(s.requests)} in ${dec(r.options.durationMs / 1000)} s |`,
    '|---|---|---|',
    `| success answers | ${int(r.accepted)} × 202 | ${int(s.confirmed201)} × 201, ${int(s.cancelled409)} × 409 |`,
    `| errors | ${int(r.errors)} | ${int(s.errors)} |`,
    `| latency p50 / p99 (from the scheduled time) | ${seconds(r.intakeP50Ms)} / ${seconds(r.intakeP99Ms)} | ${seconds(s.latency.p50Ms)} / ${seconds(s.latency.p99Ms)} |`,
    `| last answer | ${dec(r.lastAnswerSeconds, 2)} s | ${dec(s.lastAnswerSeconds, 2)} s |`,
  ].join('\n');
}

/** The fields of `experiments/results/backpressure.json` (backpressure.ts) that its table shows. */
export interface BackpressureResult {
  command: string;
  machine: LoadLevelingResult['machine'];
  ranAt?: string;
  options: { rate: number; durationS: number; capacity: number; maxLength: number };
  requests: number;
  accepted: number;
  rejected503: number;
  rejectedWithRetryAfter: number;
  otherErrors: number;
  stored: number;
  lost: number;
  halfCreated: number;
  decided: number;
  peakDepth: number;
  boundReachedSeconds: number;
  predictedBoundSeconds: number;
  firstRejectedSeconds: number;
  acceptedLatency: Latency;
  rejectedLatency: Latency;
  processingRatePerSecond: number;
}

/** Sustained overload against a bounded queue: what was accepted, refused, stored and lost. */
export function backpressureTable(r: BackpressureResult): string {
  return [
    runHeader(r),
    '',
    '| | measured | expected |',
    '|---|---|---|',
    `| requests / accepted (202) / refused (503) / other errors | ${int(r.requests)} / ${int(r.accepted)} / **${int(r.rejected503)}** / **${int(r.otherErrors)}** | no other errors |`,
    `| 503s carrying \`Retry-After\` | **${int(r.rejectedWithRetryAfter)} of ${int(r.rejected503)}** | all |`,
    `| accepted orders stored (ids checked) / lost | ${int(r.stored)} / **${int(r.lost)}** | all / 0 |`,
    `| orders stored for a refused request ("half-created") | **${int(r.halfCreated)}** | 0 |`,
    `| peak queue depth | ${int(r.peakDepth)} | the bound, ${int(r.options.maxLength)} |`,
    `| queue reached its bound | ${dec(r.boundReachedSeconds)} s | ${dec(r.predictedBoundSeconds)} s (bound ÷ (arrivals − capacity)) |`,
    `| first 503 (by send time) | ${dec(r.firstRejectedSeconds)} s | |`,
    `| accepted latency p50 / p99 | ${seconds(r.acceptedLatency.p50Ms)} / ${seconds(r.acceptedLatency.p99Ms)} | |`,
    `| 503 latency p50 / p99 | ${seconds(r.rejectedLatency.p50Ms)} / ${seconds(r.rejectedLatency.p99Ms)} | |`,
    `| processing rate over the run | ${dec(r.processingRatePerSecond)} orders/s | at most ${int(r.options.capacity)}/s (the knob) |`,
    `| sagas decided when the report was written | ${int(r.decided)} of ${int(r.accepted)} | |`,
  ].join('\n');
}

/** What experiments/src/console-cpu.ts writes (medians over its rounds). */
export interface ConsoleCpuResult {
  command: string;
  at: string;
  rate: number;
  phases: {
    name: string;
    seconds: number;
    rounds: number;
    servicesCpu: number;
    consoleCpu: number;
    totalCpu: number;
    totalCpuEach: number[];
    addedPercent: number;
  }[];
  pageAddsPercent: number;
  consoleAddsPercent: number;
  consoleOwnPercent: number;
}

/** The control room's cost: CPU seconds of the stack per phase, side by side. */
export function consoleCpuTable(r: ConsoleCpuResult): string {
  const signed = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(1)} %`;
  const rounds = r.phases[0]?.rounds ?? 0;
  return [
    `Measured ${r.at.slice(0, 10)} with \`${r.command}\` (${r.rate} orders/s in every phase; the three phases in turn, ${rounds} times; medians):`,
    '',
    '| phase | six services, CPU s | console, CPU s | stack total, CPU s (each round) | against no console |',
    '|---|---|---|---|---|',
    ...r.phases.map(
      (p) =>
        `| ${p.name} (${p.seconds} s) | ${p.servicesCpu.toFixed(1)} | ${p.consoleCpu.toFixed(1)} | ${p.totalCpu.toFixed(1)} (${p.totalCpuEach.map((v) => v.toFixed(1)).join(', ')}) | ${signed(p.addedPercent)} |`,
    ),
    '',
    `The console's own process uses ${r.consoleOwnPercent.toFixed(1)} % of the stack's CPU; with its page open the stack's total moves by ${signed(r.consoleAddsPercent)}, and the page alone by ${signed(r.pageAddsPercent)} (the rounds' spread shows how much of that is the machine's own noise).`,
  ].join('\n');
}

/** What experiments/src/choreography.ts writes: the same orders through both flows. */
export interface ChoreographyResult {
  command: string;
  ranAt: string;
  machine: LoadLevelingResult['machine'];
  options: { rate: number; durationS: number; burst: number };
  flows: Record<
    'orchestrated' | 'choreographed',
    {
      steady: { accepted: number; confirmed: number; endToEnd: Latency & { count: number } };
      burst: {
        accepted: number;
        confirmed: number;
        throughputPerSecond: number;
        spanSeconds: number;
        endToEnd: Latency & { count: number };
      };
      messagesPerOrder: { published: number; rabbitmq: number; kafka: number; deliveries: number };
      reader: { places: number; files: string[] };
    }
  >;
}

/** Orchestration and choreography side by side. */
export function choreographyTable(r: ChoreographyResult): string {
  const { orchestrated: o, choreographed: c } = r.flows;
  // `services/inventory/src/order-flow/x.ts` → `inventory/order-flow/x.ts`: the service says which of the same names.
  const files = (f: string[]) => f.map((x) => `\`${x.replace(/^(services|libs)\/([^/]+)\/src\//, '$2/')}\``).join(', ');
  const ms = (n: number) => `${int(n)} ms`;
  return [
    runHeader(r),
    '',
    '| | orchestrated (saga) | choreographed |',
    '|---|---|---|',
    `| messages published per order (RabbitMQ + Kafka) | ${dec(o.messagesPerOrder.published, 2)} (${dec(o.messagesPerOrder.rabbitmq, 2)} + ${dec(o.messagesPerOrder.kafka, 2)}) | ${dec(c.messagesPerOrder.published, 2)} (${dec(c.messagesPerOrder.rabbitmq, 2)} + ${dec(c.messagesPerOrder.kafka, 2)}) |`,
    `| deliveries to service queues and groups per order (wire-taps aside) | ${dec(o.messagesPerOrder.deliveries, 2)} | ${dec(c.messagesPerOrder.deliveries, 2)} |`,
    `| end-to-end latency p50 / p99, ${int(r.options.rate)} orders/s for ${int(r.options.durationS)} s | ${ms(o.steady.endToEnd.p50Ms)} / ${ms(o.steady.endToEnd.p99Ms)} | ${ms(c.steady.endToEnd.p50Ms)} / ${ms(c.steady.endToEnd.p99Ms)} |`,
    `| orders confirmed, steady | ${int(o.steady.confirmed)} of ${int(o.steady.accepted)} | ${int(c.steady.confirmed)} of ${int(c.steady.accepted)} |`,
    `| end-to-end latency p50 / p99, the burst | ${ms(o.burst.endToEnd.p50Ms)} / ${ms(o.burst.endToEnd.p99Ms)} | ${ms(c.burst.endToEnd.p50Ms)} / ${ms(c.burst.endToEnd.p99Ms)} |`,
    `| throughput, a burst of ${int(r.options.burst)} orders within 1 s | ${dec(o.burst.throughputPerSecond)} orders/s (${dec(o.burst.spanSeconds)} s) | ${dec(c.burst.throughputPerSecond)} orders/s (${dec(c.burst.spanSeconds)} s) |`,
    `| source files that say who does what next | ${o.reader.places}: ${files(o.reader.files)} | ${c.reader.places}: ${files(c.reader.files)} |`,
  ].join('\n');
}

/** What experiments/src/scale-out.ts writes: one backlog drained by 1, 2 and 4 processes of each saga service. */
export interface ScaleOutResult {
  command: string;
  ranAt: string;
  machine: LoadLevelingResult['machine'];
  options: { orders: number; skus: number; users: number };
  runs: {
    instances: number;
    processes: number;
    drainSeconds: number;
    sagasPerSecond: number;
    cpuMsPerSaga: number;
    speedup: number;
    confirmed: number;
    cancelled: number;
  }[];
}

/** Sagas per second and CPU per saga by the number of instances of each saga service. */
export function scaleOutTable(r: ScaleOutResult): string {
  return [
    runHeader(r),
    '',
    `| instances of each saga service | processes | ${int(r.options.orders)} orders drained in | sagas/s | against one instance | CPU per saga (all saga processes) |`,
    '|---|---|---|---|---|---|',
    ...r.runs.map(
      (x) =>
        `| ${x.instances} | ${x.processes} | ${dec(x.drainSeconds, 2)} s | ${dec(x.sagasPerSecond)} | ${dec(x.speedup, 2)}× | ${dec(x.cpuMsPerSaga, 2)} ms |`,
    ),
  ].join('\n');
}

/** One drill of cluster-sagas.ts: what was stopped, what the edge answered, what was absorbed, how it recovered. */
export interface ClusterSagasDrill {
  drill: string;
  node: string;
  posted: number;
  accepted: number;
  refused: number;
  refusedWithRetryAfter: number;
  /** Orders stored although their POST answered 503: the task's publish was never confirmed, and landed anyway. */
  storedAlthoughRefused: number;
  /** Refused orders posted again with their Idempotency-Key after the drill, and what came back. */
  repostedAccepted: number;
  final: { confirmed: number; cancelled: number; pending: number };
  duplicatesAbsorbed: number;
  /** What the services' counters say happened meanwhile: delayed retries, dead letters, consumer pauses (breakers). */
  retried: number;
  deadLettered: number;
  consumerPauses: number;
  /** Seconds from the stop to its end (`infra/cluster stop-node` returned), and to the node being back. */
  stopTookS: number;
  restartTookS: number;
  /**
   * The longest stretch, from the stop on, in which none of the drill's orders was decided while some were still
   * to be (queued, in a saga, or refused and not yet posted again), in seconds.
   */
  longestStallS: number;
  /** Per service: AMQP connections lost and connection attempts refused during the drill (each one moved the
   * service to its next node). */
  failovers: Record<string, { lost: number; refused: number }>;
  /** When the drill's last order was decided, in seconds after the stop began (the node was back at `backAfterS`). */
  allDecidedAfterS: number;
  backAfterS: number;
  analytics: { counted: number; stored: number; exact: boolean };
  invariants: string[];
  /** Drill 3 only: what each request got while two nodes were down, and when orders were taken again. */
  majority?: {
    answers: Record<string, number>;
    /** Each request in order: status (0: no answer), milliseconds, Retry-After, the error or message. */
    requests: { status: number; ms: number; retryAfter?: string; message?: string }[];
    medianAnswerMs: number;
    retryAfter: string[];
    acceptedAgainAfterS: number;
  };
}

/** What experiments/src/cluster-sagas.ts writes: sagas through node failures on the three-node clusters. */
export interface ClusterSagasResult {
  command: string;
  ranAt: string;
  machine: LoadLevelingResult['machine'];
  options: { orders: number; rate: number; failAfter: number; downS: number; majorityProbes: number };
  drills: ClusterSagasDrill[];
}

/** One row per drill: what was stopped, what the edge answered, what the system absorbed, how it recovered. */
export function clusterSagasTable(r: ClusterSagasResult): string {
  const what: Record<string, string> = {
    rabbitmq: 'the RabbitMQ node leading `order-processing`',
    kafka: "the Kafka broker coordinating analytics' consumer group",
    majority: 'two of the three RabbitMQ nodes',
  };
  const moved = (f: Record<string, { lost: number; refused: number }>) =>
    Object.entries(f)
      .filter(([, x]) => x.lost > 0)
      .map(([service, x]) => `${service} ${x.lost}`)
      .join(', ') || 'none';
  return [
    runHeader(r),
    '',
    '| drill | stopped | POST /orders answered | stored although refused | duplicates absorbed | retries, dead letters | connections moved to another node | longest stall | every order decided, after the stop began | analytics | invariants |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.drills.map((d) => {
      const answered =
        `${int(d.accepted)} × 202, ${int(d.refused)} refused (${int(d.refusedWithRetryAfter)} × 503 with Retry-After)` +
        (d.majority
          ? `, median answer ${int(d.majority.medianAnswerMs)} ms; orders taken again ${dec(d.majority.acceptedAgainAfterS)} s after the restart began`
          : '');
      return (
        `| ${d.drill} | ${what[d.drill] ?? d.drill} (${d.node.replace(": analytics' group coordinator, ", ', ')}), ${dec(d.stopTookS)} s to stop | ${answered} | ${int(d.storedAlthoughRefused)} | ${int(d.duplicatesAbsorbed)} | ${int(d.retried)}, ${int(d.deadLettered)} | ${moved(d.failovers)} | ${dec(d.longestStallS)} s | ` +
        `${d.final.pending === 0 ? `${dec(d.allDecidedAfterS)} s` : `${int(d.final.pending)} pending`} (nodes back at ${dec(d.backAfterS)} s) | ` +
        `${int(d.analytics.counted)} of ${int(d.analytics.stored)}${d.analytics.exact ? ', exact' : ', NOT exact'} | ${d.invariants.length === 0 ? 'hold' : d.invariants.join('; ')} |`
      );
    }),
  ].join('\n');
}

/** Replaces the text between a block's markers; undefined when the markers are missing. */
export function replaceBlock(text: string, name: string, content: string): string | undefined {
  const begin = `<!-- results:${name}:begin -->`;
  const end = `<!-- results:${name}:end -->`;
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return undefined;
  return `${text.slice(0, a + begin.length)}\n${content}\n${text.slice(b)}`;
}

/** Every results block of the docs: the page, the block's name, its result file and how it is rendered. */
const ll = (render: (r: LoadLevelingResult) => string) => (r: unknown) => render(r as LoadLevelingResult);

export const resultBlocks: { file: string; name: string; result: string; render: (r: unknown) => string }[] = [
  { file: 'docs/load-leveling.md', name: 'burst', result: 'load-leveling.json', render: ll(burstTable) },
  { file: 'docs/load-leveling.md', name: 'burst-sync', result: 'load-leveling.json', render: ll(syncTable) },
  { file: 'docs/load-leveling.md', name: 'split', result: 'load-leveling-split.json', render: ll(burstTable) },
  { file: 'docs/load-leveling.md', name: 'scaled', result: 'load-leveling-scaled.json', render: ll(burstTable) },
  { file: 'docs/load-leveling.md', name: 'scaled-sync', result: 'load-leveling-scaled.json', render: ll(syncTable) },
  {
    file: 'docs/load-leveling.md',
    name: 'backpressure',
    result: 'backpressure.json',
    render: (r) => backpressureTable(r as BackpressureResult),
  },
  {
    file: 'docs/choreography.md',
    name: 'choreography',
    result: 'choreography.json',
    render: (r) => choreographyTable(r as ChoreographyResult),
  },
  {
    file: 'docs/clusters.md',
    name: 'scale-out',
    result: 'scale-out.json',
    render: (r) => scaleOutTable(r as ScaleOutResult),
  },
  {
    file: 'docs/clusters.md',
    name: 'cluster-sagas',
    result: 'cluster-sagas.json',
    render: (r) => clusterSagasTable(r as ClusterSagasResult),
  },
  {
    file: 'docs/console.md',
    name: 'console-cpu',
    result: 'console-cpu.json',
    render: (r) => consoleCpuTable(r as ConsoleCpuResult),
  },
];

/** Rewrites, in the docs under `root`, every block rendered from `resultFile`; returns the pages it changed. */
export function writeResultBlocks(root: string, resultFile: string): string[] {
  const result = JSON.parse(readFileSync(path.join(root, 'experiments', 'results', resultFile), 'utf8')) as unknown;
  const changed = new Set<string>();
  for (const block of resultBlocks.filter((b) => b.result === resultFile)) {
    const file = path.join(root, block.file);
    const text = readFileSync(file, 'utf8');
    const next = replaceBlock(text, block.name, block.render(result));
    if (next === undefined) throw new Error(`${block.file} has no <!-- results:${block.name}:begin/end --> markers`);
    if (next !== text) {
      writeFileSync(file, next);
      changed.add(block.file);
    }
  }
  return [...changed];
}
