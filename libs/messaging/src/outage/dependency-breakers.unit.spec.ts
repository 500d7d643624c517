import { describe, expect, it } from 'vitest';
import { silentLogger as quiet } from '../logger.js';
import { DependencyBreakers, anyProbe } from './dependency-breakers.js';

describe('dependency breakers', () => {
  it('opens on a trip, tells listeners at once, probes with a backoff and closes when the probe answers', async () => {
    let up = false;
    let probes = 0;
    const pauses: string[] = [];
    const resumed: number[] = [];
    const breakers = new DependencyBreakers({
      probes: {
        postgres: () => {
          probes += 1;
          return up;
        },
      },
      initialProbeDelayMs: 10,
      maxProbeDelayMs: 40,
      logger: quiet,
      metrics: {
        consumed: () => undefined,
        failed: () => undefined,
        retried: () => undefined,
        deadLettered: () => undefined,
        published: () => undefined,
        paused: (d) => pauses.push(d),
        resumed: (_, ms) => resumed.push(ms),
      },
    });
    const changes: boolean[] = [];
    breakers.onChange((open) => changes.push(open));

    breakers.trip('postgres', 'Error: Connection terminated');
    expect(changes).toEqual([true]);
    expect(breakers.anyOpen).toBe(true);
    expect(breakers.status()).toMatchObject([
      { dependency: 'postgres', open: true, reason: 'Error: Connection terminated' },
    ]);
    breakers.trip('postgres', 'again');
    expect(pauses).toEqual(['postgres']);

    let closed = false;
    const waiting = breakers.whenAllClosed().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(closed).toBe(false);
    expect(probes).toBeGreaterThanOrEqual(3);

    up = true;
    await waiting;
    expect(breakers.anyOpen).toBe(false);
    expect(changes).toEqual([true, false]);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]).toBeGreaterThanOrEqual(150);
  });

  it('stays open until every dependency answers', async () => {
    let kafkaUp = false;
    const breakers = new DependencyBreakers({
      probes: { postgres: () => true, kafka: () => kafkaUp },
      initialProbeDelayMs: 5,
      logger: quiet,
    });
    const changes: boolean[] = [];
    breakers.onChange((open) => changes.push(open));
    breakers.trip('postgres', 'down');
    breakers.trip('kafka', 'down');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(breakers.status().map((s) => s.dependency)).toEqual(['kafka']);
    expect(changes).toEqual([true]);
    kafkaUp = true;
    await breakers.whenAllClosed();
    expect(changes).toEqual([true, false]);
  });

  it('counts a throwing probe as down', async () => {
    let calls = 0;
    const breakers = new DependencyBreakers({
      probes: {
        rabbitmq: () => {
          calls += 1;
          if (calls < 3) throw new Error('still down');
          return true;
        },
      },
      initialProbeDelayMs: 5,
      logger: quiet,
    });
    breakers.trip('rabbitmq', 'down');
    await breakers.whenAllClosed();
    expect(calls).toBe(3);
  });

  it('releases waiters when stopped', async () => {
    const breakers = new DependencyBreakers({
      probes: { postgres: () => false },
      initialProbeDelayMs: 5,
      logger: quiet,
    });
    breakers.trip('postgres', 'down');
    const waiting = breakers.whenAllClosed();
    breakers.stop();
    await expect(waiting).resolves.toBeUndefined();
  });
});

describe('a probe of several brokers', () => {
  it('is up while any broker answers, and down only when none does (a throwing probe counts as down)', async () => {
    const up = () => true;
    const down = () => false;
    const throwing = () => {
      throw new Error('refused');
    };
    const rejecting = () => Promise.reject(new Error('refused'));
    expect(await anyProbe([down, throwing, up])()).toBe(true);
    expect(await anyProbe([rejecting, async () => true])()).toBe(true);
    expect(await anyProbe([down, throwing, rejecting])()).toBe(false);
  });
});
