/** Wall-clock milliseconds with sub-millisecond resolution, comparable with PostgreSQL's now() on this machine. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One progress line on stderr, prefixed with the seconds since `start`. */
export function progress(start: number, message: string): void {
  process.stderr.write(`[${((epochMs() - start) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
}
