/**
 * Soak: a moderate rate of POST /orders for a long time (default 30 per second for 1 hour), to show what only
 * time reveals: a growing outbox backlog, a slowly rising queue depth or consumer lag, memory that keeps growing,
 * dead letters that trickle in. Latency bounds are tighter than the burst's: nothing should degrade over time.
 *
 *   docker compose --profile loadtest run --rm k6 run -e DURATION=4h /scripts/soak.ts
 */
import type { Options } from 'k6/options';
import { durationSeconds, envDuration, envInt } from './lib/config.ts';
import { placeOrder } from './lib/orders.ts';
import { prepareLoad, type LoadData } from './lib/setup.ts';

const rate = envInt('RATE', 30);
const duration = envDuration('DURATION', '1h');

export const options: Options = {
  setupTimeout: '180s',
  scenarios: {
    soak: {
      executor: 'constant-arrival-rate',
      rate,
      timeUnit: '1s',
      duration,
      preAllocatedVUs: envInt('VUS', 20),
      maxVUs: envInt('MAX_VUS', 200),
    },
  },
  thresholds: {
    'http_req_failed{endpoint:async}': [`rate<${__ENV.MAX_ERROR_RATE ?? '0.001'}`],
    'checks{endpoint:async}': ['rate>0.999'],
    'http_req_duration{endpoint:async}': [`p(95)<${envInt('P95_MS', 300)}`, `p(99)<${envInt('P99_MS', 1_000)}`],
    dropped_iterations: [`count<${Math.max(1, Math.ceil(rate * 0.001 * durationSeconds(duration)))}`],
  },
};

export function setup(): LoadData {
  return prepareLoad({
    orders: Math.ceil(rate * durationSeconds(duration)),
    users: envInt('USERS', 50),
    skus: envInt('SKUS', 20),
    unitPrice: 100,
  });
}

export default function (data: LoadData): void {
  placeOrder(data, 'async');
}
