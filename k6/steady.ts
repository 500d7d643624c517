/**
 * Steady: a constant rate of POST /orders for a while (default 100 per second for 5 minutes). The queue should
 * stay near empty: the workers keep up, so queue depth and consumer lag stay flat.
 *
 *   docker compose --profile loadtest run --rm k6 run -e RATE=200 -e DURATION=10m /scripts/steady.ts
 */
import type { Options } from 'k6/options';
import { durationSeconds, envDuration, envInt } from './lib/config.ts';
import { placeOrder } from './lib/orders.ts';
import { prepareLoad, type LoadData } from './lib/setup.ts';

const rate = envInt('RATE', 100);
const duration = envDuration('DURATION', '5m');

export const options: Options = {
  setupTimeout: '180s',
  scenarios: {
    steady: {
      executor: 'constant-arrival-rate',
      rate,
      timeUnit: '1s',
      duration,
      preAllocatedVUs: envInt('VUS', 50),
      maxVUs: envInt('MAX_VUS', 500),
    },
  },
  thresholds: {
    'http_req_failed{endpoint:async}': [`rate<${__ENV.MAX_ERROR_RATE ?? '0.01'}`],
    'checks{endpoint:async}': ['rate>0.99'],
    'http_req_duration{endpoint:async}': [`p(95)<${envInt('P95_MS', 500)}`, `p(99)<${envInt('P99_MS', 1_500)}`],
    dropped_iterations: [`count<${Math.max(1, Math.ceil(rate * 0.01))}`],
  },
};

export function setup(): LoadData {
  return prepareLoad({
    orders: Math.ceil(rate * durationSeconds(duration)),
    users: envInt('USERS', 20),
    skus: envInt('SKUS', 10),
    unitPrice: 100,
  });
}

export default function (data: LoadData): void {
  placeOrder(data, 'async');
}
