/**
 * The burst lab's data, as the control room's server sends it and its page draws it: shared by both sides, types
 * only. The experiment's own types (experiments/src/lib/burst-model.ts, load-leveling-run.ts) are the source; the
 * console loads that code from the built experiments at run time, so these describe what it answers.
 */

/** A burst: how many orders, over how long, workers capped at what rate, into how bounded a queue (0: no bound). */
export interface LabParams {
  requests: number;
  durationMs: number;
  capacity: number;
  maxLength: number;
  prefetch: number;
}

export interface LabPoint {
  /** Seconds since the burst started. */
  t: number;
  v: number;
}

/** The fill-and-drain curve the queue should follow (docs/load-leveling.md). */
export interface LabPrediction {
  peakDepth: number;
  drainSeconds: number;
  boundReachedSeconds: number | null;
  refused: number;
  points: LabPoint[];
}

export interface LabPercentiles {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

/** The run's figures so far (every half second while it runs). */
export interface LabSample {
  t: number;
  /** Depth samples (ready messages) taken since the previous sample. */
  depth: { t: number; ready: number }[];
  scheduled: number;
  answered: number;
  accepted: number;
  rejected503: number;
  retryAfter: string | null;
  otherErrors: number;
  intake: LabPercentiles | null;
  stored: number;
  decided: number;
  confirm: LabPercentiles | null;
  blockedConnections: number | null;
}

/** A finished run's key figures (from its result file). */
export interface LabSummary {
  requests: number;
  accepted: number;
  rejected503: number;
  rejectedWithRetryAfter: number;
  retryAfterValues: string[];
  otherErrors: number;
  lost: number;
  sagasEnded: number;
  allSagasEnded: boolean;
  peakDepth: number;
  predictedPeakDepth: number;
  drainSeconds: number | null;
  predictedDrainSeconds: number;
  predictedRefused: number;
  processingRatePerSecond: number;
  intakeP50Ms: number;
  intakeP95Ms: number;
  intakeP99Ms: number;
  confirmP50Ms: number;
  confirmP95Ms: number;
  confirmP99Ms: number;
  blockedConnectionsPeak: number | null;
}

export type LabStatus = 'running' | 'done' | 'failed';

/** The lab's current (or last) run, as the stream sends it. */
export interface LabRun {
  id: string;
  operator: string;
  startedAt: string;
  params: LabParams;
  status: LabStatus;
  phase: string;
  message: string;
  predicted?: LabPrediction;
  /** Every depth sample so far. */
  depth: { t: number; ready: number }[];
  latest?: LabSample;
  summary?: LabSummary;
  reason?: string;
}

/** What the stream's `lab` event carries: the whole run (on connect, start and end), or what changed. */
export type LabUpdate =
  | { kind: 'run'; run: LabRun }
  | { kind: 'phase'; id: string; phase: string; message: string }
  | { kind: 'start'; id: string; predicted: LabPrediction }
  | { kind: 'sample'; id: string; sample: LabSample };

/** A saved run, as `GET /api/lab/runs` lists it. */
export interface SavedLabRun {
  id: string;
  operator: string;
  ranAt: string;
  params: LabParams;
  summary: LabSummary;
}

/** One saved run with its curves, as `GET /api/lab/runs/:id` answers. */
export interface SavedLabRunDetail extends SavedLabRun {
  depth: { t: number; ready: number }[];
  predicted: LabPrediction;
  /** The result file as the runner wrote it. */
  report: Record<string, unknown>;
}

/** `GET /api/lab/runs`: the current run, the saved ones (newest first) and the sizes the lab accepts. */
export interface LabOverview {
  current: LabRun | null;
  runs: SavedLabRun[];
  limits: Record<string, { min: number; max: number } | number>;
  defaults: LabParams;
  resultsDir: string;
}
