import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.js';

describe('rate limiter (the consumer capacity knob)', () => {
  it('lets a burst through at once and then paces callers at the rate', async () => {
    const limiter = new RateLimiter(200, 5);
    const started = performance.now();
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 45 }, () => limiter.take().then(() => times.push(performance.now() - started))),
    );
    // 5 at once, then 40 more at 200/s: never faster than about 200 ms in all (a busy machine may be slower).
    expect(Math.min(...times)).toBeLessThan(100);
    expect(Math.max(...times)).toBeGreaterThan(180);
    expect(Math.max(...times)).toBeLessThan(5_000);
  });

  it('serves callers in arrival order', async () => {
    const limiter = new RateLimiter(1_000, 1);
    const order: number[] = [];
    await Promise.all([1, 2, 3, 4].map((n) => limiter.take().then(() => order.push(n))));
    expect(order).toEqual([1, 2, 3, 4]);
  });
});
