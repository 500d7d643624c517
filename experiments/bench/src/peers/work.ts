import { createHash } from 'node:crypto';

/**
 * The handler work every peer does for each message, identical across peers: JSON parsing (done by the
 * framework where the framework parses) plus a fixed small CPU task, then recording the message's latency.
 */
const block = Buffer.alloc(1024, 7);
export function fixedWork(): void {
  for (let i = 0; i < 20; i++) createHash('sha256').update(block).digest();
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export const nowMs = () => performance.timeOrigin + performance.now();

/** Counts handled messages and their latencies (publish → handled), reported to the parent over IPC. */
export class PeerStats {
  count = 0;
  first = 0;
  last = 0;
  latencies: number[] = [];

  record(sentAt: number): void {
    const now = nowMs();
    if (this.count === 0) this.first = now;
    this.count += 1;
    this.last = now;
    this.latencies.push(now - sentAt);
  }

  reset(): void {
    this.count = 0;
    this.first = 0;
    this.last = 0;
    this.latencies = [];
  }
}

export interface PeerReport {
  type: 'stats';
  count: number;
  first: number;
  last: number;
  latencies: number[];
}

/** Answers the bench's `stats` and `reset` requests; `ready` is sent once the peer consumes. */
export function servePeer(stats: PeerStats, stop: () => Promise<void>): void {
  process.on('message', (message: unknown) => {
    if (message === 'stats') {
      const report: PeerReport = { type: 'stats', ...stats, latencies: stats.latencies };
      process.send?.(report);
    } else if (message === 'reset') {
      stats.reset();
      process.send?.({ type: 'reset' });
    } else if (message === 'stop') {
      void stop().finally(() => process.exit(0));
    }
  });
  process.send?.({ type: 'ready' });
}

export function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
