/**
 * Burst: 10,000 POST /orders in one second (open model: k6 starts them on schedule whether or not earlier ones
 * have answered). The order-processing queue absorbs the burst (pattern: load leveling): the API keeps answering
 * 202 quickly while the workers drain the queue at their own pace (watch "Queue depth" in Grafana).
 *
 *   docker compose --profile loadtest run --rm k6 run /scripts/burst.ts
 *   k6 run -e BURST_REQUESTS=2000 -e ORDERS_URL=http://127.0.0.1:3001 ... k6/burst.ts
 */
import type { Options } from 'k6/options';
import { envDuration, envInt } from './lib/config.ts';
import { placeOrder } from './lib/orders.ts';
import { prepareLoad, type LoadData } from './lib/setup.ts';

const requests = envInt('BURST_REQUESTS', 10_000);

export const options: Options = {
  setupTimeout: '180s',
  scenarios: {
    burst: {
      executor: 'constant-arrival-rate',
      rate: requests,
      timeUnit: '1s',
      duration: envDuration('BURST_DURATION', '1s'),
      preAllocatedVUs: envInt('BURST_VUS', 2_000),
      maxVUs: envInt('BURST_MAX_VUS', 5_000),
      gracefulStop: '60s',
    },
  },
  thresholds: {
    // Fails the run: more than 1 % of the burst's requests failed, or not answered 202.
    'http_req_failed{endpoint:async}': [`rate<${__ENV.MAX_ERROR_RATE ?? '0.01'}`],
    'checks{endpoint:async}': ['rate>0.99'],
    // The API only enqueues, so even under the burst most answers come fast.
    'http_req_duration{endpoint:async}': [`p(95)<${envInt('BURST_P95_MS', 3_000)}`],
    // k6 could not start an iteration on time (no free VU): the burst was not the burst asked for.
    dropped_iterations: [`count<${Math.ceil(requests / 100)}`],
  },
};

export function setup(): LoadData {
  return prepareLoad({ orders: requests, users: envInt('USERS', 20), skus: envInt('SKUS', 10), unitPrice: 100 });
}

export default function (data: LoadData): void {
  placeOrder(data, 'async');
}
