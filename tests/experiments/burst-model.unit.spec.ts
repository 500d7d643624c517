import { describe, expect, it } from 'vitest';
import { LAB_DEFAULTS, parseBurstParams, predictFillAndDrain } from '../../experiments/src/lib/burst-model.js';

describe('the predicted fill-and-drain curve', () => {
  it('piles up what arrives beyond the workers during the burst and drains it at their cap', () => {
    const p = predictFillAndDrain({ requests: 10_000, durationMs: 1_000, capacity: 1_000, maxLength: 0 });
    expect(p.peakDepth).toBe(9_000);
    expect(p.drainSeconds).toBe(9);
    expect(p.refused).toBe(0);
    expect(p.boundReachedSeconds).toBeNull();
    expect(p.points).toEqual([
      { t: 0, v: 0 },
      { t: 1, v: 9_000 },
      { t: 10, v: 0 },
    ]);
  });

  it('predicts an empty queue when the workers keep up', () => {
    const p = predictFillAndDrain({ requests: 100, durationMs: 2_000, capacity: 100, maxLength: 0 });
    expect(p.peakDepth).toBe(0);
    expect(p.drainSeconds).toBe(0);
    expect(p.points.every((x) => x.v === 0)).toBe(true);
  });

  it('stops at the bound, refuses what arrives beyond it, and drains the bound', () => {
    // 400 in 1 s against 50/s: 350 would pile up; a bound of 100 is reached after 100 / 350 s, 250 are refused.
    const p = predictFillAndDrain({ requests: 400, durationMs: 1_000, capacity: 50, maxLength: 100 });
    expect(p.peakDepth).toBe(100);
    expect(p.refused).toBe(250);
    expect(p.boundReachedSeconds).toBeCloseTo(100 / 350, 6);
    expect(p.drainSeconds).toBe(2);
    expect(p.points.map((x) => x.v)).toEqual([0, 100, 100, 0]);
    expect(p.points.at(-1)!.t).toBe(3);
  });

  it('ignores a bound the burst does not reach', () => {
    const bounded = predictFillAndDrain({ requests: 400, durationMs: 1_000, capacity: 100, maxLength: 1_000 });
    const unbounded = predictFillAndDrain({ requests: 400, durationMs: 1_000, capacity: 100, maxLength: 0 });
    expect(bounded).toEqual(unbounded);
    expect(bounded.peakDepth).toBe(300);
  });
});

describe('the burst parameters the lab accepts', () => {
  it('takes the defaults for missing fields', () => {
    expect(parseBurstParams({})).toEqual({ params: LAB_DEFAULTS });
    expect(parseBurstParams({ requests: 800, capacity: 200 })).toEqual({
      params: { ...LAB_DEFAULTS, requests: 800, capacity: 200 },
    });
  });

  it('accepts 0 as no bound and a bound within its range', () => {
    expect(parseBurstParams({ maxLength: 0 })).toEqual({ params: { ...LAB_DEFAULTS, maxLength: 0 } });
    expect(parseBurstParams({ maxLength: 100 })).toEqual({ params: { ...LAB_DEFAULTS, maxLength: 100 } });
  });

  it('names every problem: out of range, not whole, not a number, unknown, not an object', () => {
    expect(problems({ requests: 0 })).toEqual(['requests must be from 1 to 10000, got 0']);
    expect(problems({ requests: 20_001 })).toHaveLength(1);
    expect(problems({ capacity: 1.5 })).toEqual(['capacity must be a whole number']);
    expect(problems({ durationMs: '1000' })).toEqual(['durationMs must be a whole number']);
    expect(problems({ maxLength: 5 })).toEqual(['maxLength must be 0 (no bound) or from 10 to 100000, got 5']);
    expect(problems({ prefetch: -1, colour: 'red' })).toHaveLength(2);
    expect(problems([1, 2])).toHaveLength(1);
    expect(problems(null)).toHaveLength(1);
  });

  it('refuses a burst whose backlog would take longer than the lab allows to drain', () => {
    expect(problems({ requests: 10_000, capacity: 10 })[0]).toMatch(/take 1000 s to drain; the lab allows 300 s/);
    expect(parseBurstParams({ requests: 3_000, capacity: 10 })).toHaveProperty('params');
  });
});

function problems(input: unknown): string[] {
  const parsed = parseBurstParams(input);
  return 'problems' in parsed ? parsed.problems : [];
}
