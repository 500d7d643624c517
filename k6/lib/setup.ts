import { fail, sleep } from 'k6';
import http from 'k6/http';
import { INVENTORY_URL, OPERATOR_TOKEN, ORDERS_URL, PAYMENTS_URL, SERVICE_TOKEN, bearer } from './config.ts';

/** What every scenario's setup() prepares: customers with money, and SKUs with stock. */
export interface LoadData {
  userIds: string[];
  skus: string[];
  unitPrice: number;
}

export interface LoadPlan {
  /** Orders the run may place at most; stock and deposits cover all of them, so none fails for lack of either. */
  orders: number;
  users: number;
  skus: number;
  /** Cents per item. */
  unitPrice: number;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };
const AS_OPERATOR = { ...JSON_HEADERS, ...bearer(OPERATOR_TOKEN) };
const AS_SERVICE = { ...JSON_HEADERS, ...bearer(SERVICE_TOKEN) };
/** Setup traffic is tagged apart, so the scenarios' thresholds only judge the traffic under test. */
const SETUP_TAGS = { phase: 'setup' };

/** A response body for an error message (binary bodies are not shown). */
const bodyText = (body: string | ArrayBuffer | null) => (typeof body === 'string' ? body.slice(0, 500) : '');

function expectStatus(what: string, status: number, expected: number[], body: string | ArrayBuffer | null): void {
  if (!expected.includes(status)) fail(`${what}: HTTP ${status} ${bodyText(body)}`);
}

/**
 * Registers `plan.users` customers (POST /users on orders), sets the stock of `plan.skus` SKUs (PUT /stock/:sku on
 * inventory) and deposits enough for every order (POST /accounts/:userId/deposits on payments). Payments opens an
 * account when `user.registered` reaches it over the `user-events` fanout, so the first deposit is retried until
 * the account exists (bounded: 60 s per customer).
 */
export function prepareLoad(plan: LoadPlan): LoadData {
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const userIds: string[] = [];
  for (let i = 0; i < plan.users; i++) {
    const response = http.post(
      `${ORDERS_URL}/users`,
      JSON.stringify({ email: `k6-${run}-${i}@example.test`, name: `k6 customer ${i}` }),
      { headers: JSON_HEADERS, tags: SETUP_TAGS },
    );
    expectStatus('POST /users', response.status, [201], response.body);
    const userId = response.json('userId');
    if (typeof userId !== 'string') fail(`POST /users answered without a userId: ${bodyText(response.body)}`);
    userIds.push(userId);
  }

  const skus = Array.from({ length: plan.skus }, (_, i) => `k6-${run}-${i}`);
  const perSku = Math.ceil(plan.orders / plan.skus) + 1;
  for (const sku of skus) {
    const response = http.put(`${INVENTORY_URL}/stock/${sku}`, JSON.stringify({ quantity: perSku }), {
      headers: AS_OPERATOR,
      tags: SETUP_TAGS,
    });
    expectStatus(`PUT /stock/${sku}`, response.status, [200], response.body);
  }

  const amount = (Math.ceil(plan.orders / plan.users) + 1) * plan.unitPrice;
  for (const userId of userIds) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const response = http.post(`${PAYMENTS_URL}/accounts/${userId}/deposits`, JSON.stringify({ amount }), {
        headers: AS_SERVICE,
        tags: SETUP_TAGS,
        // 404 until payments has opened the account: expected here, not a failed request.
        responseCallback: http.expectedStatuses(200, 201, 404),
      });
      if (response.status === 200 || response.status === 201) break;
      expectStatus(`POST /accounts/${userId}/deposits`, response.status, [404], response.body);
      if (Date.now() > deadline) fail(`payments did not open the account of ${userId} within 60 s`);
      sleep(0.5);
    }
  }
  return { userIds, skus, unitPrice: plan.unitPrice };
}
