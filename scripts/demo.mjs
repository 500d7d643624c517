// A short tour of the running stack: a user registers, orders go through the saga over RabbitMQ, events flow
// over Kafka into analytics, e-mails go out over SMTP, and the audit log tells one order's story.
const base = {
  orders: process.env.ORDERS_URL ?? 'http://127.0.0.1:3001',
  inventory: process.env.INVENTORY_URL ?? 'http://127.0.0.1:3002',
  payments: process.env.PAYMENTS_URL ?? 'http://127.0.0.1:3003',
  email: process.env.EMAIL_URL ?? 'http://127.0.0.1:3004',
  analytics: process.env.ANALYTICS_URL ?? 'http://127.0.0.1:3005',
  audit: process.env.AUDIT_URL ?? 'http://127.0.0.1:3006',
};
// `node scripts/demo.mjs --flow=choreographed` runs the orders without the saga (docs/choreography.md).
const flow = process.argv.find((a) => a.startsWith('--flow='))?.slice('--flow='.length);

// Every route but POST /users wants a bearer token (docs/security.md). Alice gets hers when she registers; the
// operator's (stock, analytics, audit) is OPERATOR_TOKEN, or one signed here with the stack's key (.run/keys).
async function operatorToken() {
  if (process.env.OPERATOR_TOKEN) return process.env.OPERATOR_TOKEN;
  const { TokenIssuer } = await import('../libs/messaging/dist/auth/tokens.js');
  const dir = process.env.AUTH_KEYS_DIR ?? new URL('../.run/keys', import.meta.url).pathname;
  return TokenIssuer.fromDir(dir).issue({ role: 'operator', subject: 'demo' });
}
const operator = await operatorToken();

async function call(method, url, body, token = operator) {
  const response = await fetch(url, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), authorization: `Bearer ${token}` },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const show = (label, value) =>
  console.log(`  ${label.padEnd(36)} ${typeof value === 'string' ? value : JSON.stringify(value)}`);
const euros = (cents) => `${(cents / 100).toFixed(2)} EUR`;

async function until(what, probe, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await sleep(150);
  }
}

const before = (await call('GET', `${base.analytics}/analytics/summary`)).body;
const sku = `DEMO-BOOK-${Date.now().toString(36)}`;
const email = `alice-${Date.now()}@example.com`;

console.log('1. Alice registers. orders stores her and puts user.registered in its outbox for the user-events fanout;');
console.log('   payments opens her account, email sends a welcome mail, analytics and audit record her.');
const user = await call('POST', `${base.orders}/users`, { email, name: 'Alice' });
const { userId, token: alice } = user.body;
show('POST /users', `${user.status} {"userId":"${userId}","token":"${alice.slice(0, 16)}..."}`);
await until(
  'the account',
  async () => (await call('GET', `${base.payments}/accounts/${userId}`, undefined, alice)).status === 200,
);
show(
  'POST /accounts/:id/deposits 100 EUR',
  (await call('POST', `${base.payments}/accounts/${userId}/deposits`, { amount: 10_000 }, alice)).body,
);
const someoneElse = '00000000-0000-4000-8000-000000000000';
const refused = await call('GET', `${base.payments}/accounts/${someoneElse}`, undefined, alice);
show("GET someone else's account (Alice)", `${refused.status} ${refused.body?.reason ?? ''}`);
show(`PUT /stock/${sku} 5`, (await call('PUT', `${base.inventory}/stock/${sku}`, { quantity: 5 })).body);

console.log('\n2. Four orders. POST /orders answers 202 once RabbitMQ confirmed the task on order-processing;');
console.log('   the saga then reserves stock and takes payment, or compensates.');
const plans = [
  ['1 book at 12.50', 1, 1_250],
  ['2 books at 12.50', 2, 1_250],
  ['5 books (only 2 left)', 5, 1_250],
  ['2 books at 50.00 (too expensive)', 2, 5_000],
];
const orders = [];
for (const [label, quantity, unitPrice] of plans) {
  const body = { userId, items: [{ sku, quantity, unitPrice }], ...(flow ? { flow } : {}) };
  const answer = await call('POST', `${base.orders}/orders`, body, alice);
  orders.push([label, answer.body.orderId]);
  show(`POST /orders ${label}`, `${answer.status} ${JSON.stringify(answer.body)}`);
  await sleep(300); // one at a time, so the outcomes read in order
}

console.log('\n3. Outcomes (GET /orders/:id)');
for (const [label, id] of orders) {
  const order = await until(`order ${id}`, async () => {
    const got = (await call('GET', `${base.orders}/orders/${id}`, undefined, alice)).body;
    return got && got.status !== 'PENDING' ? got : undefined;
  });
  show(label, `${order.status}${order.reason ? ` (${order.reason})` : ''}, total ${euros(order.total)}`);
}
await sleep(500);
show(`GET /stock/${sku}`, (await call('GET', `${base.inventory}/stock/${sku}`)).body);
const account = (await call('GET', `${base.payments}/accounts/${userId}`, undefined, alice)).body;
show('GET /accounts/:id', `balance ${euros(account.balance)}, version ${account.version}`);

console.log('\n4. How did the balance get there? (GET /accounts/:id/events: the event-sourced account)');
for (const event of (await call('GET', `${base.payments}/accounts/${userId}/events`, undefined, alice)).body) {
  show(`  v${event.version} ${event.type}`, event.data.amount ? euros(event.data.amount) : (event.data.name ?? ''));
}
// The same events, read by another service from Kafka (account-events, group analytics-accounts): its own view.
const activity = await until('analytics to read the account events', async () => {
  const answer = await call('GET', `${base.analytics}/analytics/accounts/${userId}`);
  return answer.status === 200 && answer.body.balance === account.balance ? answer.body : undefined;
}).catch(() => undefined);
show(
  '  analytics: the same events',
  activity
    ? `${activity.deposits} deposit(s), ${activity.withdrawals} withdrawal(s), balance ${euros(activity.balance)} (from account-events)`
    : 'not caught up yet',
);

console.log('\n5. Kafka order-events feed analytics (group analytics) and e-mails (group order-notifications)');
const after = await until('analytics', async () => {
  const summary = (await call('GET', `${base.analytics}/analytics/summary`)).body;
  return summary.ordersCreated >= before.ordersCreated + 4 && summary.ordersConfirmed >= before.ordersConfirmed + 2
    ? summary
    : undefined;
});
show('GET /analytics/summary (before)', before);
show('GET /analytics/summary (now)', after);
const mails = await until('the e-mails', async () => {
  const list = (await call('GET', `${base.email}/emails?to=${encodeURIComponent(email)}`, undefined, alice)).body;
  return Array.isArray(list) && list.length >= 5 ? list : undefined;
}).catch(() =>
  call('GET', `${base.email}/emails?to=${encodeURIComponent(email)}`, undefined, alice).then((r) => r.body),
);
for (const mail of mails ?? []) show(`mail (${mail.kind})`, mail.subject);

console.log("\n6. One order's whole story across the services (GET /audit?correlationId=...)");
const story = (await call('GET', `${base.audit}/audit?correlationId=${orders[0][1]}`)).body;
for (const entry of Array.isArray(story) ? story : (story?.entries ?? [])) show(`  ${entry.source ?? ''}`, entry.type);

const flowed = after.ordersCreated - before.ordersCreated;
console.log(
  `\n${flowed >= 4 ? 'OK' : 'INCOMPLETE'}: ${flowed} of 4 orders flowed from HTTP through RabbitMQ and Kafka.`,
);
if (flowed < 4 || refused.status !== 403) process.exit(1);
