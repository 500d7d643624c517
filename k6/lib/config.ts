/**
 * Where the services are and how big a run is, from k6's environment (`-e NAME=value` or the container's
 * environment). The defaults are the compose service names and the ports of DEFAULT_PORTS; for the native stack
 * pass ORDERS_URL=http://127.0.0.1:3001 and so on.
 */

export const ORDERS_URL = __ENV.ORDERS_URL ?? 'http://orders:3001';
export const INVENTORY_URL = __ENV.INVENTORY_URL ?? 'http://inventory:3002';
export const PAYMENTS_URL = __ENV.PAYMENTS_URL ?? 'http://payments:3003';

/**
 * Bearer tokens (docs/security.md): orders and deposits go as a service (the scripts act for many users), stock is
 * set as an operator. Natively: `-e SERVICE_TOKEN=$(./stack token service) -e OPERATOR_TOKEN=$(./stack token operator)`.
 */
export const SERVICE_TOKEN = __ENV.SERVICE_TOKEN ?? '';
export const OPERATOR_TOKEN = __ENV.OPERATOR_TOKEN ?? '';
export const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

/** A whole number from the environment, or the default. */
export function envInt(name: string, fallback: number): number {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got ${raw}`);
  return value;
}

/** A k6 duration (`30s`, `5m`, `1h`) from the environment, or the default. */
export function envDuration(name: string, fallback: string): string {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+(ms|s|m|h)$/.test(raw)) throw new Error(`${name} must be a duration such as 30s, 5m or 1h, got ${raw}`);
  return raw;
}

const UNIT_SECONDS = { ms: 0.001, s: 1, m: 60, h: 3600 } as const;

/** Seconds in a k6 duration of one unit (`30s`, `5m`, `1h`). */
export function durationSeconds(duration: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(duration);
  if (!match) throw new Error(`not a duration: ${duration}`);
  return Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
}
