/**
 * The burst lab's pure parts, shared by the load-leveling runner, its CLI and the control room (which loads this
 * module from the built experiments): the parameters an operator may ask for, and the fill-and-drain curve the
 * queue should follow (docs/load-leveling.md).
 */

/** What a burst is: how many orders, over how long, against workers capped at what rate, into how bounded a queue. */
export interface BurstParams {
  requests: number;
  /** The burst's length: request i leaves at i × durationMs / requests. */
  durationMs: number;
  /** The workers' cap, orders per second (ORDER_PROCESSING_MAX_PER_SECOND). */
  capacity: number;
  /** A `max-length` on order-processing (overflow `reject-publish`); 0: no bound of the lab's own. */
  maxLength: number;
  /** Messages each worker may hold unacknowledged (ORDER_PROCESSING_PREFETCH). */
  prefetch: number;
}

/** The sizes the lab accepts (the CLI accepts anything; the lab runs on a shared machine, beside the stack). */
export const LAB_LIMITS = {
  requests: { min: 1, max: 10_000 },
  durationMs: { min: 100, max: 30_000 },
  capacity: { min: 10, max: 5_000 },
  maxLength: { min: 10, max: 100_000 },
  prefetch: { min: 1, max: 500 },
  /** The backlog must drain in this many seconds at the workers' cap (requests / capacity). */
  drainSeconds: 300,
} as const;

export const LAB_DEFAULTS: BurstParams = {
  requests: 400,
  durationMs: 1_000,
  capacity: 100,
  maxLength: 0,
  prefetch: 50,
};

/**
 * Checks a burst the lab is asked for: an object of whole numbers within `LAB_LIMITS` (`maxLength` 0 or within its
 * range; a missing field takes its default), whose backlog drains within `LAB_LIMITS.drainSeconds`. Every problem is
 * named; nothing is rounded or clamped behind the caller's back.
 */
export function parseBurstParams(input: unknown): { params: BurstParams } | { problems: string[] } {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return { problems: ['the body must be a JSON object: {requests, durationMs, capacity, maxLength, prefetch}'] };
  const raw = input as Record<string, unknown>;
  const problems: string[] = [];
  const known = Object.keys(LAB_DEFAULTS);
  for (const key of Object.keys(raw)) if (!known.includes(key)) problems.push(`unknown field ${key}`);
  const params = { ...LAB_DEFAULTS };
  for (const key of known as (keyof BurstParams)[]) {
    const value = raw[key];
    if (value === undefined) continue;
    const limit = LAB_LIMITS[key];
    const zeroAllowed = key === 'maxLength' && value === 0;
    if (typeof value !== 'number' || !Number.isInteger(value)) problems.push(`${key} must be a whole number`);
    else if (!zeroAllowed && (value < limit.min || value > limit.max))
      problems.push(
        `${key} must be ${key === 'maxLength' ? '0 (no bound) or ' : ''}from ${limit.min} to ${limit.max}, got ${value}`,
      );
    else params[key] = value;
  }
  if (problems.length === 0 && params.requests / params.capacity > LAB_LIMITS.drainSeconds)
    problems.push(
      `${params.requests} orders at ${params.capacity}/s take ${Math.ceil(params.requests / params.capacity)} s to drain; the lab allows ${LAB_LIMITS.drainSeconds} s`,
    );
  return problems.length ? { problems } : { params };
}

export interface Point {
  /** Seconds since the burst started. */
  t: number;
  v: number;
}

export interface FillAndDrain {
  /** The deepest the queue gets: what arrived beyond the workers' pace, at most the bound. */
  peakDepth: number;
  /** Seconds from the burst's end until the queue is empty again, at the workers' cap. */
  drainSeconds: number;
  /** When the bound is reached (seconds since the burst started), or null when it is not. */
  boundReachedSeconds: number | null;
  /** Requests the bound turns away (503 with Retry-After): what arrives while the queue is full. */
  refused: number;
  /** The curve: straight lines between these points. */
  points: Point[];
}

/**
 * The predicted queue depth: during the burst, arrivals (`requests / duration`) beyond the workers' cap pile up; once
 * the burst is over the pile drains at the cap. With a bound, the pile stops at it: from then on, what arrives beyond
 * the cap is refused. Messages in flight (at most prefetch) are not counted, as the measured depth does not count them.
 */
export function predictFillAndDrain(
  p: Pick<BurstParams, 'requests' | 'durationMs' | 'capacity' | 'maxLength'>,
): FillAndDrain {
  const burstSeconds = p.durationMs / 1000;
  const unbounded = Math.max(0, p.requests - p.capacity * burstSeconds);
  if (p.maxLength <= 0 || unbounded <= p.maxLength) {
    const drainSeconds = unbounded / p.capacity;
    return {
      peakDepth: unbounded,
      drainSeconds,
      boundReachedSeconds: null,
      refused: 0,
      points: [0, burstSeconds, burstSeconds + drainSeconds].map((t) => ({
        t,
        v: t === 0 ? 0 : Math.max(0, unbounded - p.capacity * (t - burstSeconds)),
      })),
    };
  }
  const fillRate = p.requests / burstSeconds - p.capacity;
  const reached = p.maxLength / fillRate;
  const drainSeconds = p.maxLength / p.capacity;
  return {
    peakDepth: p.maxLength,
    drainSeconds,
    boundReachedSeconds: reached,
    refused: unbounded - p.maxLength,
    points: [
      { t: 0, v: 0 },
      { t: reached, v: p.maxLength },
      { t: burstSeconds, v: p.maxLength },
      { t: burstSeconds + drainSeconds, v: 0 },
    ],
  };
}
