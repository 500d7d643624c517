/**
 * Synchronous versus asynchronous order placement, side by side at the same rate (default 50 per second each for
 * 2 minutes): POST /orders answers 202 once the task is on the order-processing queue, POST /orders/sync answers
 * once the order is decided (saga done). The end-of-test summary lists http_req_duration for `endpoint:async`
 * and `endpoint:sync` separately (they are threshold selectors), which is the comparison.
 *
 *   docker compose --profile loadtest run --rm k6 run /scripts/sync-vs-async.ts
 */
import type { Options } from 'k6/options';
import { durationSeconds, envDuration, envInt } from './lib/config.ts';
import { placeOrder } from './lib/orders.ts';
import { prepareLoad, type LoadData } from './lib/setup.ts';

const rate = envInt('RATE', 50);
const duration = envDuration('DURATION', '2m');

const scenario = (exec: string) => ({
  executor: 'constant-arrival-rate' as const,
  exec,
  rate,
  timeUnit: '1s',
  duration,
  preAllocatedVUs: envInt('VUS', 50),
  maxVUs: envInt('MAX_VUS', 1_000),
});

export const options: Options = {
  setupTimeout: '180s',
  scenarios: { async: scenario('asyncOrders'), sync: scenario('syncOrders') },
  thresholds: {
    'http_req_failed{endpoint:async}': [`rate<${__ENV.MAX_ERROR_RATE ?? '0.01'}`],
    'http_req_failed{endpoint:sync}': [`rate<${__ENV.MAX_ERROR_RATE ?? '0.01'}`],
    'checks{endpoint:async}': ['rate>0.99'],
    'checks{endpoint:sync}': ['rate>0.99'],
    'http_req_duration{endpoint:async}': [`p(95)<${envInt('ASYNC_P95_MS', 500)}`],
    // The synchronous call waits for reservation and payment: bounded by the saga, not by the HTTP layer.
    'http_req_duration{endpoint:sync}': [`p(95)<${envInt('SYNC_P95_MS', 5_000)}`],
  },
};

export function setup(): LoadData {
  return prepareLoad({
    orders: 2 * Math.ceil(rate * durationSeconds(duration)),
    users: envInt('USERS', 20),
    skus: envInt('SKUS', 10),
    unitPrice: 100,
  });
}

export function asyncOrders(data: LoadData): void {
  placeOrder(data, 'async');
}

export function syncOrders(data: LoadData): void {
  placeOrder(data, 'sync');
}
