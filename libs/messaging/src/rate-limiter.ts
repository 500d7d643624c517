/**
 * A token bucket: `take()` resolves when the caller may go, so that no more than `perSecond` callers go in any
 * second on average, with bursts of at most `burst`. Pure timing, no I/O; the clock is injectable for tests.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly perSecond: number,
    private readonly burst = Math.max(1, Math.ceil(perSecond / 10)),
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** How long the next caller would wait, in milliseconds, without taking a token. */
  private wait(): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.perSecond) * 1000;
  }

  /** Waits for a token. Callers are served in arrival order. */
  take(): Promise<void> {
    const turn = this.queue.then(async () => {
      for (let delay = this.wait(); delay > 0; delay = this.wait()) {
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
      this.tokens -= 1;
    });
    this.queue = turn;
    return turn;
  }
}
