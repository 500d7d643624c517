import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The q-th percentile (0..100) of `values`, nearest-rank; NaN for no values. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarize(latencies: readonly number[]): LatencySummary {
  const round = (n: number) => (Number.isNaN(n) ? n : Math.round(n * 10) / 10);
  return {
    count: latencies.length,
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(latencies.length ? Math.max(...latencies) : Number.NaN),
  };
}

/**
 * Counts events per bucket of `bucketMs` from `start`, as a rate per second at each bucket's start (seconds
 * since `start`), covering [start, start + spanMs).
 */
export function ratePerSecond(
  times: readonly number[],
  start: number,
  spanMs: number,
  bucketMs: number,
): { t: number; v: number }[] {
  const buckets = new Array<number>(Math.max(1, Math.ceil(spanMs / bucketMs))).fill(0);
  for (const time of times) {
    const i = Math.floor((time - start) / bucketMs);
    if (i >= 0 && i < buckets.length) buckets[i]!++;
  }
  return buckets.map((n, i) => ({ t: (i * bucketMs) / 1000, v: (n * 1000) / bucketMs }));
}

/** Writes rows as CSV (header from the first row's keys); values are numbers or plain strings. */
export function writeCsv(file: string, rows: readonly Record<string, string | number | undefined>[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  if (rows.length === 0) return writeFileSync(file, '');
  const keys = Object.keys(rows[0]!);
  const cell = (v: string | number | undefined) =>
    v === undefined ? '' : typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : `"${v.replace(/"/g, '""')}"`;
  writeFileSync(file, [keys.join(','), ...rows.map((r) => keys.map((k) => cell(r[k])).join(','))].join('\n') + '\n');
}

export function writeJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/** The machine's load average now, to two decimals: every report gives it at its run's start and end. */
export const loadAverage = (): number[] => os.loadavg().map((l) => Math.round(l * 100) / 100);

/** The machine a run measured on, with the load average at the run's start (taken by the caller) and now. */
export function machineInfo(loadAverageAtStart: number[]) {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadAverageAtStart,
    loadAverageAtEnd: loadAverage(),
  };
}
