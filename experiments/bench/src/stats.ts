/** Small statistics helpers for the bench: percentiles of latency samples and medians of repeated runs. */
import { readdirSync, readFileSync } from 'node:fs';

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Rounds for display: integers above 100, two significant decimals below. */
export function fmt(value: number | undefined, digits = 1): string {
  if (value === undefined || Number.isNaN(value)) return 'n/a';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}

export function ratio(value: number | undefined, base: number | undefined): number | undefined {
  if (value === undefined || base === undefined || !(base > 0)) return undefined;
  return value / base;
}

export function pct(r: number | undefined): string {
  return r === undefined ? 'n/a' : `${(r * 100).toFixed(0)}%`;
}

/** Busy jiffies (1/100 s) of the whole machine so far, from /proc/stat: everything but idle and iowait. */
export function machineCpu(): { busy: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return { busy: user! + nice! + system! + irq! + softirq! + steal! };
}

/** A process's command and user + system CPU seconds so far (/proc/<pid>/stat), or undefined when it is gone. */
function readProcStat(pid: number | string): { command: string; cpu: number } | undefined {
  let line: string;
  try {
    line = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = line.lastIndexOf(')');
  const fields = line.slice(close + 2).split(' ');
  // utime and stime: fields 14 and 15 of the line, 12 and 13 after the command.
  return { command: line.slice(line.indexOf('(') + 1, close), cpu: (Number(fields[11]) + Number(fields[12])) / 100 };
}

/** User + system CPU seconds a process has used so far, or NaN when it is gone. */
export function processCpuSeconds(pid: number | undefined): number {
  return (pid === undefined ? undefined : readProcStat(pid))?.cpu ?? Number.NaN;
}

/** CPU seconds (user + system) used so far by groups of processes, and by the whole machine. */
export interface CpuByProcess {
  at: number;
  /** By group: each named pid's group, then PostgreSQL, RabbitMQ and Kafka by their command, then `other`. */
  seconds: Record<string, number>;
  machine: number;
}

/** The process groups a saga runs on, by command name (`/proc/<pid>/stat`'s second field). */
const COMMAND_GROUPS: Record<string, string> = { postgres: 'postgresql', 'beam.smp': 'rabbitmq', java: 'kafka' };

/**
 * Reads every process's CPU time from /proc and sums it by group: the pids given by name (the services, the
 * bench itself), PostgreSQL (all its processes, backends and WAL writer alike), RabbitMQ, Kafka, and the rest. A
 * process that ended between two reads takes its CPU with it, so differences are lower bounds for short-lived ones.
 */
export function cpuByProcess(named: Record<string, number | undefined>): CpuByProcess {
  const byPid = new Map(Object.entries(named).flatMap(([name, pid]) => (pid ? [[pid, name] as const] : [])));
  const seconds: Record<string, number> = Object.fromEntries(
    [...Object.keys(named), ...Object.values(COMMAND_GROUPS), 'other'].map((g) => [g, 0]),
  );
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(entry);
    if (!stat) continue;
    const { command, cpu } = stat;
    const group = byPid.get(Number(entry)) ?? COMMAND_GROUPS[command] ?? 'other';
    seconds[group] = (seconds[group] ?? 0) + cpu;
  }
  return { at: performance.now(), seconds, machine: machineCpu().busy / 100 };
}

/** CPU milliseconds per operation by group between two reads, the machine's, and how many cores were busy on average. */
export function cpuPerOperation(
  before: CpuByProcess,
  after: CpuByProcess,
  operations: number,
): { perOperationMs: Record<string, number>; machineMs: number; coresBusy: number } {
  const perOperationMs = Object.fromEntries(
    Object.keys(after.seconds).map((g) => [g, ((after.seconds[g]! - (before.seconds[g] ?? 0)) * 1000) / operations]),
  );
  const wall = (after.at - before.at) / 1000;
  return {
    perOperationMs,
    machineMs: ((after.machine - before.machine) * 1000) / operations,
    coresBusy: (after.machine - before.machine) / wall,
  };
}
