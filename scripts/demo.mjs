// A short tour of the running stack: register a user, place orders, watch them flow through
// RabbitMQ (order-processing) and Kafka (order-events) into the analytics read model.
const base = {
  orders: process.env.ORDERS_URL ?? 'http://127.0.0.1:3001',
  inventory: process.env.INVENTORY_URL ?? 'http://127.0.0.1:3002',
  payments: process.env.PAYMENTS_URL ?? 'http://127.0.0.1:3003',
  analytics: process.env.ANALYTICS_URL ?? 'http://127.0.0.1:3005',
};
const management = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';
const adminAuth = `Basic ${Buffer.from(`${process.env.RABBITMQ_ADMIN_USER ?? 'messaging-admin'}:${process.env.RABBITMQ_ADMIN_PASSWORD ?? 'messaging-admin-dev'}`).toString('base64')}`;

async function call(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function queueDepth(queue) {
  const response = await fetch(`${management}/api/queues/messaging/${encodeURIComponent(queue)}`, {
    headers: { authorization: adminAuth },
  });
  return response.ok ? ((await response.json()).messages ?? 0) : '?';
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const show = (label, value) =>
  console.log(`  ${label.padEnd(34)} ${typeof value === 'string' ? value : JSON.stringify(value)}`);

const before = (await call('GET', `${base.analytics}/analytics/summary`)).body;
console.log(
  '1. Register a user (orders stores it; user.registered goes out through the outbox to the user-events fanout)',
);
const user = await call('POST', `${base.orders}/users`, { email: `demo-${Date.now()}@example.com`, name: 'Alice' });
show('POST /users', `${user.status} ${JSON.stringify(user.body)}`);

console.log('\n2. Place five orders (POST /orders answers 202 once RabbitMQ confirmed the task on order-processing)');
const orders = [];
for (let i = 1; i <= 5; i++) {
  const answer = await call('POST', `${base.orders}/orders`, {
    userId: user.body.userId,
    items: [{ sku: 'DEMO-BOOK', quantity: i, unitPrice: 1250 }],
  });
  orders.push(answer.body.orderId);
  show(`POST /orders (${i} x DEMO-BOOK)`, `${answer.status} ${JSON.stringify(answer.body)}`);
}
show('order-processing queue depth', String(await queueDepth('order-processing')));

console.log('\n3. The orders worker consumes order-processing, stores each order and emits order.created to Kafka');
await sleep(500);
for (const id of orders) {
  const order = (await call('GET', `${base.orders}/orders/${id}`)).body;
  show(
    `GET /orders/${id.slice(0, 8)}…`,
    `${order?.status ?? 'not yet stored'}${order?.reason ? ` (${order.reason})` : ''}, total ${order?.total}`,
  );
}

console.log('\n4. Analytics reads order-events in consumer group "analytics" and the user-events fanout');
let after = before;
for (let i = 0; i < 50; i++) {
  after = (await call('GET', `${base.analytics}/analytics/summary`)).body;
  if (after.ordersCreated >= before.ordersCreated + 5 && after.usersRegistered >= before.usersRegistered + 1) break;
  await sleep(200);
}
show('GET /analytics/summary (before)', before);
show('GET /analytics/summary (now)', after);
const flowed = after.ordersCreated - before.ordersCreated;
console.log(
  `\n${flowed >= 5 ? 'OK' : 'INCOMPLETE'}: ${flowed} of 5 orders flowed from HTTP through RabbitMQ and Kafka into analytics.`,
);
if (flowed < 5) process.exit(1);
