import { createHash } from 'node:crypto';
import { rateLimit, type RateLimitRequestHandler } from 'express-rate-limit';

/** How many requests one client address may make in a window; undefined when limits are off. */
export interface RateLimit {
  requests: number;
  windowMs: number;
}

/** The default: enough for a person, a browser or the demo; a flood from one address gets 429 within a second. */
export const DEFAULT_RATE_LIMIT = '300/10s';

/**
 * Reads `RATE_LIMIT`: `<requests>/<seconds>s` (for example `300/10s`), or `off`. The load experiments, the
 * benchmarks and the test tiers set `off` (they are one client address sending thousands of requests on purpose);
 * a test of the limiter sets its own.
 */
export function parseRateLimit(value: string | undefined = DEFAULT_RATE_LIMIT): RateLimit | undefined {
  if (value === 'off') return undefined;
  const match = /^(\d+)\/(\d+)s$/.exec(value);
  const requests = Number(match?.[1]);
  const seconds = Number(match?.[2]);
  if (!match || requests < 1 || seconds < 1 || seconds > 3_600)
    throw new Error(
      `RATE_LIMIT must be <requests>/<seconds>s (for example ${DEFAULT_RATE_LIMIT}) or off, got ${value}`,
    );
  return { requests, windowMs: seconds * 1_000 };
}

/** Routes that monitoring polls: never limited, so a flood cannot hide the service's own state. */
const UNLIMITED = new Set(['/health', '/metrics']);

/** The bearer token of a request, hashed (the limiter's key; the token itself is not kept), or undefined. */
function tokenKey(request: unknown): string | undefined {
  const header = (request as { headers: Record<string, string | undefined> }).headers.authorization ?? '';
  const match = /^Bearer +([^ ]+)$/i.exec(header);
  return match ? createHash('sha256').update(match[1]!).digest('base64url') : undefined;
}

/**
 * Rate limiting on every route but `GET /health` and `GET /metrics` (express-rate-limit, a fixed window in memory
 * per process), per client address or per bearer token: past the limit, 429 with `Retry-After` (seconds until the
 * window ends) and a JSON error like every other refusal, before the body is even read and before the token is
 * verified (a limit per token is per token sent: made-up tokens still count against their address).
 */
export function rateLimiter(limit: RateLimit, per: 'address' | 'token' = 'address'): RateLimitRequestHandler {
  const who = per === 'address' ? 'this address' : 'this token';
  return rateLimit({
    windowMs: limit.windowMs,
    limit: limit.requests,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // express's own types are not installed (Nest's platform brings express without them): the two request and
    // response members used here are typed by hand.
    skip: (request: unknown) => {
      const { method, path } = request as { method: string; path: string };
      return (method === 'GET' && UNLIMITED.has(path)) || (per === 'token' && tokenKey(request) === undefined);
    },
    ...(per === 'token' ? { keyGenerator: (request: unknown) => tokenKey(request)! } : {}),
    handler: (_request: unknown, response: unknown, _next: unknown, options: { statusCode: number }) => {
      (response as { status(code: number): { json(body: unknown): void } }).status(options.statusCode).json({
        statusCode: options.statusCode,
        error: 'Too Many Requests',
        message: `more than ${limit.requests} requests in ${limit.windowMs / 1_000} s from ${who}; retry after the time in Retry-After`,
      });
    },
  });
}
