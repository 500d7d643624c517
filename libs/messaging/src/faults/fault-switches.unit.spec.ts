import { afterEach, describe, expect, it, vi } from 'vitest';
import { FaultRequest, FaultSwitches, FaultsNotAllowedError, InjectedFaultError } from './fault-switches.js';

const SOURCES = ['payment.process', 'order-events'];

afterEach(() => vi.useRealTimers());

describe('fault switches', () => {
  it('refuse every fault unless the process allows faults', () => {
    const off = new FaultSwitches(false);
    expect(() => off.add({ kind: 'pause-relay', durationS: 10 }, 'op', SOURCES)).toThrow(FaultsNotAllowedError);
    expect(off.list()).toEqual([]);
  });

  it('refuse a source the service does not consume, and requests out of bounds', () => {
    const on = new FaultSwitches(true);
    expect(() => on.add({ kind: 'at-most-once', source: 'elsewhere', durationS: 10 }, 'op', SOURCES)).toThrow(
      /consumes no elsewhere/,
    );
    for (const bad of [
      { kind: 'slow-consumer', source: 'payment.process', delayMs: 0 },
      { kind: 'fail-consumer', source: 'payment.process', fraction: 1.5 },
      { kind: 'pause-relay', durationS: 601 },
      { kind: 'pause-relay', extra: true },
      { kind: 'reboot' },
    ]) {
      expect(FaultRequest.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(FaultRequest.parse({ kind: 'pause-relay' })).toEqual({ kind: 'pause-relay', durationS: 120 });
  });

  it('end by themselves after their duration, or when switched off, and tell their listeners', () => {
    vi.useFakeTimers();
    const on = new FaultSwitches(true);
    const seen: number[] = [];
    on.onChange((now) => seen.push(now.length));
    const relay = on.add({ kind: 'pause-relay', durationS: 5 }, 'op', SOURCES, new Date('2030-01-01T00:00:00Z'));
    expect(relay).toMatchObject({ kind: 'pause-relay', by: 'op', until: '2030-01-01T00:00:05.000Z' });
    const slow = on.add({ kind: 'at-most-once', source: 'payment.process', durationS: 60 }, 'op', SOURCES);
    expect(on.relayPaused && on.atMostOnce('payment.process') && !on.atMostOnce('order-events')).toBe(true);
    vi.advanceTimersByTime(5_000);
    expect(on.relayPaused).toBe(false);
    expect(on.remove(slow.id)).toBe(true);
    expect(on.remove(slow.id)).toBe(false);
    expect(on.touches('payment.process')).toBe(false);
    expect(seen).toEqual([1, 2, 1, 0]);
  });

  it('slow a consumer by its delay and fail the given fraction of its messages, and leave other sources alone', async () => {
    let dice = 0.3;
    const on = new FaultSwitches(true, () => dice);
    on.add({ kind: 'fail-consumer', source: 'order-events', fraction: 0.5, durationS: 60 }, 'op', SOURCES);
    await expect(on.beforeHandling('order-events')).rejects.toBeInstanceOf(InjectedFaultError);
    dice = 0.7;
    await expect(on.beforeHandling('order-events')).resolves.toBeUndefined();
    dice = 0;
    await expect(on.beforeHandling('payment.process')).resolves.toBeUndefined();
    on.add({ kind: 'slow-consumer', source: 'payment.process', delayMs: 50, durationS: 60 }, 'op', SOURCES);
    const started = performance.now();
    await on.beforeHandling('payment.process');
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    on.clear();
    expect(on.list()).toEqual([]);
  });

  it('stop the consumers of one source, or every consumer of the service, and name them for /health', () => {
    const on = new FaultSwitches(true);
    expect(() => on.add({ kind: 'stop-consumers', durationS: 10 }, 'op', SOURCES)).toThrow(/no consumer to stop/);
    const unregister = on.registerConsumer('payment.process');
    on.registerConsumer('order-events');
    on.registerConsumer('payment.process-dlq');
    expect(on.stoppable()).toEqual(['order-events', 'payment.process', 'payment.process-dlq']);
    // Any consumer running here may be named, also one that is not a source of the other faults.
    expect(() => on.add({ kind: 'stop-consumers', source: 'elsewhere', durationS: 10 }, 'op', SOURCES)).toThrow(
      /consumes no elsewhere/,
    );
    const one = on.add({ kind: 'stop-consumers', source: 'payment.process-dlq', durationS: 10 }, 'op', SOURCES);
    expect(on.stopping('payment.process-dlq')?.id).toBe(one.id);
    expect(on.stopping('payment.process')).toBeUndefined();
    const all = on.add({ kind: 'stop-consumers', durationS: 10 }, 'bob', SOURCES, new Date('2030-01-01T00:00:00Z'));
    expect(on.stopping('order-events')?.id).toBe(all.id);
    expect(on.stoppedByOperator()).toEqual([
      { source: 'payment.process-dlq', by: 'op', until: one.until },
      { source: 'all', by: 'bob', until: '2030-01-01T00:00:10.000Z' },
    ]);
    on.remove(all.id);
    expect(on.stopping('order-events')).toBeUndefined();
    unregister();
    unregister();
    expect(on.stoppable()).toEqual(['order-events', 'payment.process-dlq']);
    expect(FaultRequest.safeParse({ kind: 'stop-consumers', source: '' }).success).toBe(false);
    on.clear();
  });
});
