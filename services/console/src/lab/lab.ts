import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type {
  LabOverview,
  LabParams,
  LabPrediction,
  LabRun,
  LabSample,
  LabSummary,
  LabUpdate,
  SavedLabRun,
  SavedLabRunDetail,
} from '../lab-types.js';

/** What the lab logs through (the console's logger). */
export interface LabLogger {
  warn(details: object, message: string): void;
}

/** Where the lab finds the experiments and keeps its runs, and whether it may run at all. */
export interface LabConfig {
  /** `LAB_ALLOWED=1`: `./stack up` and `./stack demo` set it; compose and Kubernetes do not. */
  allowed: boolean;
  /** The built experiments (`experiments/dist` of the repository). */
  experimentsDir: string;
  /** `LAB_RESULTS_DIR` (default `experiments/results/lab`). */
  resultsDir: string;
  /** The repository, the runner's working directory. */
  repoRoot: string;
}

/** The experiment's pure parts (experiments/src/lib/burst-model.ts), loaded from the built experiments. */
export interface BurstModel {
  parseBurstParams(input: unknown): { params: LabParams } | { problems: string[] };
  predictFillAndDrain(p: LabParams): LabPrediction;
  LAB_LIMITS: LabOverview['limits'];
  LAB_DEFAULTS: LabParams;
}

/** The lab's run ids: when it started (UTC) and four random hex digits; also the result files' base name. */
export const RUN_ID = /^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$/;
const PROGRESS_PREFIX = '@burst ';
/** What every lab run takes besides its parameters: a short warm-up, a few customers and SKUs, no synchronous run. */
export const LAB_FIXED_ARGS = [
  '--skip-sync',
  '--warmup',
  '50',
  '--users',
  '20',
  '--skus',
  '10',
  '--drain-timeout-s',
  '360',
];

export class LabRefused extends Error {}
export class LabBusy extends Error {}

/**
 * The burst lab: runs the load-leveling experiment (experiments/src/lib/load-leveling-run.ts, through its CLI as a
 * child process with `--progress json`) in a world of its own (own vhost, databases and service processes, so the
 * running stack is not disturbed), one run at a time; passes its progress on to the stream's subscribers, and reads the
 * runs it kept.
 */
export class Lab {
  private current?: LabRun;
  private child?: ChildProcess;
  private readonly listeners = new Set<(update: LabUpdate) => void>();

  private constructor(
    private readonly config: LabConfig,
    private readonly logger: LabLogger,
    private readonly model: BurstModel | undefined,
    /** Why the lab refuses, when it does. */
    readonly refusal: string | undefined,
  ) {}

  static async create(config: LabConfig, logger: LabLogger): Promise<Lab> {
    if (!config.allowed)
      return new Lab(
        config,
        logger,
        undefined,
        'the burst lab is off: the console runs without LAB_ALLOWED=1 (./stack up and ./stack demo set it; compose and Kubernetes do not)',
      );
    const modelFile = path.join(config.experimentsDir, 'lib', 'burst-model.js');
    const runner = path.join(config.experimentsDir, 'load-leveling.js');
    if (!existsSync(modelFile) || !existsSync(runner))
      return new Lab(
        config,
        logger,
        undefined,
        `the burst lab needs the repository's built experiments (${runner}): run \`npx tsc -b\``,
      );
    const model = (await import(pathToFileURL(modelFile).href)) as BurstModel;
    return new Lab(config, logger, model, undefined);
  }

  /** The model, or the refusal (403) when the lab is off. */
  private use(): BurstModel {
    if (!this.model) throw new LabRefused(this.refusal ?? 'the burst lab is off');
    return this.model;
  }

  /** The parameters, checked: `{params}`, or the problems (400). */
  check(body: unknown): { params: LabParams } | { problems: string[] } {
    return this.use().parseBurstParams(body);
  }

  overview(): LabOverview {
    const model = this.use();
    return {
      current: this.current ?? null,
      runs: this.list(),
      limits: model.LAB_LIMITS,
      defaults: model.LAB_DEFAULTS,
      resultsDir: this.config.resultsDir,
    };
  }

  subscribe(listener: (update: LabUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The current (or last) run, for a page that connects. */
  run(): LabRun | undefined {
    return this.model ? this.current : undefined;
  }

  /** Starts a run; LabBusy (409) while one runs. */
  start(params: LabParams, operator: string): LabRun {
    const model = this.use();
    if (this.current?.status === 'running') throw new LabBusy(`run ${this.current.id} is still running`);
    mkdirSync(this.config.resultsDir, { recursive: true });
    const now = new Date();
    const id = `${now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}-${randomBytes(2).toString('hex')}`;
    const run: LabRun = {
      id,
      operator,
      startedAt: now.toISOString(),
      params,
      status: 'running',
      phase: 'starting',
      message: 'starting the runner',
      predicted: model.predictFillAndDrain(params),
      depth: [],
    };
    this.current = run;
    const args = [
      path.join(this.config.experimentsDir, 'load-leveling.js'),
      ...['--results-dir', this.config.resultsDir, '--name', id, '--run-id', id, '--operator', operator],
      ...['--progress', 'json'],
      ...['--requests', String(params.requests), '--duration-ms', String(params.durationMs)],
      ...['--capacity', String(params.capacity), '--max-length', String(params.maxLength)],
      ...['--prefetch', String(params.prefetch)],
      ...LAB_FIXED_ARGS,
    ];
    const child = spawn(process.execPath, args, {
      cwd: this.config.repoRoot,
      env: runnerEnv(process.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const stderr: string[] = [];
    let failure: string | undefined;
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith(PROGRESS_PREFIX)) continue;
        try {
          const event = JSON.parse(line.slice(PROGRESS_PREFIX.length)) as RunnerEvent;
          if (event.type === 'failed') failure = event.reason;
          else this.apply(run, event);
        } catch {
          // A line cut short is a figure lost, not a failed run.
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr.push(...chunk.toString().split('\n').filter(Boolean));
      if (stderr.length > 40) stderr.splice(0, stderr.length - 40);
    });
    const end = (reason: string | undefined) => {
      if (run.status !== 'running') return;
      this.child = undefined;
      if (reason === undefined && run.summary) run.status = 'done';
      else {
        run.status = 'failed';
        run.reason = reason ?? failure ?? (stderr.slice(-5).join('\n') || 'the runner ended without a result');
      }
      run.phase = run.status;
      this.logger.warn(
        { run: run.id, operator: run.operator, status: run.status, reason: run.reason },
        `burst lab run ${run.id} of ${run.operator} ${run.status}`,
      );
      this.publish({ kind: 'run', run });
    };
    child.on('error', (error) => end(`the runner did not start: ${error.message}`));
    child.on('exit', (code, signal) =>
      end(
        code === 0
          ? undefined
          : (failure ?? `the runner exited with ${signal ?? code}: ${stderr.slice(-5).join(' | ')}`),
      ),
    );
    this.publish({ kind: 'run', run });
    return run;
  }

  private apply(run: LabRun, event: RunnerEvent): void {
    switch (event.type) {
      case 'phase':
        run.phase = event.phase;
        run.message = event.message;
        return this.publish({ kind: 'phase', id: run.id, phase: event.phase, message: event.message });
      case 'start':
        run.predicted = event.predicted;
        return this.publish({ kind: 'start', id: run.id, predicted: event.predicted });
      case 'sample': {
        const { type: _, ...sample } = event;
        run.depth.push(...sample.depth);
        run.latest = sample;
        return this.publish({ kind: 'sample', id: run.id, sample });
      }
      case 'done':
        run.summary = summaryOf(event.report);
        return;
    }
  }

  private publish(update: LabUpdate): void {
    for (const listener of this.listeners) listener(update);
  }

  /** The saved runs, newest first. */
  list(): SavedLabRun[] {
    if (!existsSync(this.config.resultsDir)) return [];
    return readdirSync(this.config.resultsDir)
      .filter((f) => f.endsWith('.json') && RUN_ID.test(f.slice(0, -5)))
      .sort()
      .reverse()
      .flatMap((f) => {
        const saved = this.readSaved(f.slice(0, -5));
        return saved ? [saved.run] : [];
      });
  }

  /** One saved run with its measured and predicted depth; undefined when there is none of that id. */
  read(id: string): SavedLabRunDetail | undefined {
    const model = this.use();
    const saved = this.readSaved(id);
    if (!saved) return undefined;
    const csv = path.join(this.config.resultsDir, `${id}-depth.csv`);
    const depth = existsSync(csv) ? parseDepthCsv(readFileSync(csv, 'utf8')) : [];
    return { ...saved.run, depth, predicted: model.predictFillAndDrain(saved.run.params), report: saved.report };
  }

  private readSaved(id: string): { run: SavedLabRun; report: Record<string, unknown> } | undefined {
    if (!RUN_ID.test(id)) return undefined;
    const file = path.join(this.config.resultsDir, `${id}.json`);
    if (!existsSync(file)) return undefined;
    try {
      const report = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & {
        options: LabParams;
        ranAt: string;
        lab?: { operator?: string };
      };
      const { requests, durationMs, capacity, maxLength, prefetch } = report.options;
      return {
        run: {
          id,
          operator: report.lab?.operator ?? '',
          ranAt: report.ranAt,
          params: { requests, durationMs, capacity, maxLength: maxLength ?? 0, prefetch },
          summary: summaryOf(report),
        },
        report,
      };
    } catch {
      return undefined;
    }
  }

  /** Stops a run still going (the runner removes its world on SIGTERM). */
  stop(): void {
    this.child?.kill('SIGTERM');
  }
}

type RunnerEvent =
  | { type: 'phase'; phase: string; message: string }
  | { type: 'start'; predicted: LabPrediction }
  | ({ type: 'sample' } & LabSample)
  | { type: 'done'; file: string; report: Record<string, unknown> }
  | { type: 'failed'; reason: string };

/** A run's key figures, from its report. */
export function summaryOf(report: Record<string, unknown>): LabSummary {
  const n = (key: string) => {
    const value = report[key];
    return typeof value === 'number' ? value : 0;
  };
  const byKind = (report.errorsByKind ?? {}) as Record<string, number>;
  return {
    requests: n('requests'),
    accepted: n('accepted'),
    rejected503: n('rejected503'),
    rejectedWithRetryAfter: n('rejectedWithRetryAfter'),
    retryAfterValues: Array.isArray(report.retryAfterValues) ? (report.retryAfterValues as string[]) : [],
    otherErrors: Object.entries(byKind)
      .filter(([kind]) => kind !== 'http_503')
      .reduce((sum, [, count]) => sum + count, 0),
    lost: n('lost'),
    sagasEnded: n('sagasEnded'),
    allSagasEnded: report.allSagasEnded === true,
    peakDepth: n('peakDepth'),
    predictedPeakDepth: n('predictedPeakDepth'),
    drainSeconds: typeof report.drainSeconds === 'number' ? report.drainSeconds : null,
    predictedDrainSeconds: n('predictedDrainSeconds'),
    predictedRefused: n('predictedRefused'),
    processingRatePerSecond: n('processingRatePerSecond'),
    intakeP50Ms: n('intakeP50Ms'),
    intakeP95Ms: n('intakeP95Ms'),
    intakeP99Ms: n('intakeP99Ms'),
    confirmP50Ms: n('confirmP50Ms'),
    confirmP95Ms: n('confirmP95Ms'),
    confirmP99Ms: n('confirmP99Ms'),
    blockedConnectionsPeak: typeof report.blockedConnectionsPeak === 'number' ? report.blockedConnectionsPeak : null,
  };
}

/** `t_s,ready,consumers` rows (the runner's `<name>-depth.csv`). */
export function parseDepthCsv(text: string): { t: number; ready: number }[] {
  return text
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => line.split(','))
    .map(([t, ready]) => ({ t: Number(t), ready: Number(ready) }))
    .filter((p) => Number.isFinite(p.t) && Number.isFinite(p.ready));
}

/**
 * The runner's environment: the console's own, without what configures the console (its port, the services' URLs, the
 * vhost it watches, the lab's switch): the runner provisions a world of its own and starts its own services in it.
 */
export function runnerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const own =
    /^(PORT|HOST|RABBITMQ_VHOST|LAB_.*|CONSOLE_.*|FAULTS_ALLOWED|(ORDERS|INVENTORY|PAYMENTS|EMAIL|ANALYTICS|AUDIT)_URL)$/;
  return Object.fromEntries(Object.entries(env).filter(([key]) => !own.test(key)));
}
