import { check } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { ORDERS_URL, SERVICE_TOKEN, bearer } from './config.ts';
import type { LoadData } from './setup.ts';

export type Endpoint = 'async' | 'sync';

const PATHS: Record<Endpoint, string> = { async: '/orders', sync: '/orders/sync' };

/**
 * Places one order of one item. `async` is POST /orders (202: accepted onto the order-processing queue);
 * `sync` is POST /orders/sync (answers once the order is decided). Requests are tagged `endpoint:async|sync`,
 * which is what the thresholds select on.
 */
export function placeOrder(data: LoadData, endpoint: Endpoint): void {
  const i = exec.scenario.iterationInTest;
  const userId = data.userIds[i % data.userIds.length];
  const sku = data.skus[i % data.skus.length];
  const response = http.post(
    `${ORDERS_URL}${PATHS[endpoint]}`,
    JSON.stringify({ userId, items: [{ sku, quantity: 1, unitPrice: data.unitPrice }] }),
    { headers: { 'Content-Type': 'application/json', ...bearer(SERVICE_TOKEN) }, tags: { endpoint } },
  );
  check(
    response,
    endpoint === 'async'
      ? { 'POST /orders answers 202': (r) => r.status === 202 }
      : { 'POST /orders/sync answers 2xx': (r) => r.status >= 200 && r.status < 300 },
    { endpoint },
  );
}
