import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { AmqpClient, DEFAULT_EXCHANGE, Queues } from '@am/messaging';
import {
  ServiceProcess,
  http,
  launchChromium,
  operatorToken,
  pool,
  seed,
  serviceEnv,
  startAllServices,
  startConsole,
  testEnv,
  waitFor,
} from '@am/testing';

// The control room in a real browser against the six real services, this run's brokers and database: what a viewer
// sees while orders flow, a burst fills order-processing and drains, a saga compensates, a message is dead-lettered,
// and a service restarts; an operator switches a fault on and off from the page (payments runs with FAULTS_ALLOWED=1,
// the others without). `SCREENSHOTS=1` (npm run docs:screenshots) also saves each view into docs/images.
const env = testEnv();
const SHOTS = process.env.SCREENSHOTS === '1' ? 'docs/images' : undefined;
let services: Record<string, ServiceProcess>;
let controlRoom: ServiceProcess<'console'>;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
let ledger: Awaited<ReturnType<typeof seed>>;

beforeAll(async () => {
  services = await startAllServices({ payments: { FAULTS_ALLOWED: '1' } });
  controlRoom = await startConsole(services);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  ledger = await seed(urls(), 2, 1_000, 2, 1_000);
  await page.goto(`${controlRoom.url}/#token=${await operatorToken()}`);
  await page.waitForSelector('#topology svg [data-node="queue:order-processing"]', { timeout: 20_000 });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([controlRoom, ...Object.values(services ?? {})].filter(Boolean).map((s) => s.stop()));
});

const urls = () => ({
  orders: services.orders!.url,
  inventory: services.inventory!.url,
  payments: services.payments!.url,
});
const [user, poorUser] = [() => ledger.userIds[0]!, () => ledger.userIds[1]!];
const sku = () => ledger.skuIds[0]!;

async function placeOrders(count: number, userId = user(), unitPrice = 1): Promise<string[]> {
  return pool(count, 20, async () => {
    const answer = await http<{ orderId: string }>('POST', `${services.orders!.url}/orders`, {
      userId,
      items: [{ sku: sku(), quantity: 1, unitPrice }],
    });
    expect(answer.status).toBe(202);
    return answer.body.orderId;
  });
}

/** Polls the page until `read` returns a value `done` accepts; returns every value read meanwhile. */
async function watch<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000) {
  const seen: T[] = [];
  await waitFor(
    what,
    async () => {
      const value = await read();
      seen.push(value);
      return done(value);
    },
    { timeoutMs, intervalMs: 250 },
  );
  return seen;
}

const edgeRate = (edge: string) =>
  page
    .locator(`[data-edge="${edge}"]`)
    .getAttribute('data-rate')
    .then((r) => Number(r ?? 0));
const queueReady = (queue: string) =>
  page
    .locator(`[data-queue="${queue}"] .ready`)
    .textContent()
    .then((t) => Number((t ?? '').replace(/,/g, '')));
const chip = (source: string) => page.locator(`[data-source="${source}"]`).getAttribute('class');

async function shot(section: string, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.locator(section).screenshot({ path: `${SHOTS}/console-${name}.png` });
}

describe('the control room in a browser', () => {
  it('asks for a token, and refuses the data without an operator one', async () => {
    const anonymous = await browser.newPage();
    await anonymous.goto(controlRoom.url);
    await anonymous.waitForSelector('#login:not([hidden])');
    expect(await anonymous.locator('#main').isHidden()).toBe(true);
    await anonymous.close();
    expect((await http('GET', `${controlRoom.url}/api/sagas`, undefined, { authorization: '' })).status).toBe(401);
    expect((await fetch(`${controlRoom.url}/api/stream`)).status).toBe(401);
  });

  it('shows messages moving on the topology while orders flow, and still when they stop', async () => {
    // Orders keep coming for a few seconds, so the page's one-second ticks see each hop carry them.
    const placing = (async () => {
      for (let i = 0; i < 8; i++) {
        await placeOrders(10);
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
    })();
    const edges = ['queue:order-processing->sub:orders', 'queue:inventory.reserve->sub:inventory'];
    const highest = new Map(edges.map((e) => [e, 0]));
    await watch(
      'the orders and inventory edges to carry messages',
      async () => {
        for (const edge of edges) highest.set(edge, Math.max(highest.get(edge)!, await edgeRate(edge)));
        return [...highest.values()];
      },
      (rates) => rates.every((rate) => rate > 0),
    );
    await shot('#topology-view', 'topology');
    await placing;
    expect([...highest.values()].every((rate) => rate > 0)).toBe(true);
    await watch(
      'the edges to go quiet again',
      () => edgeRate('queue:order-processing->sub:orders'),
      (r) => r === 0,
    );
    await page.check('#show-patterns');
    expect(await page.locator('[data-edge="exchange:user-events->queue:email-notifications"] text').textContent()).toBe(
      'fanout: a copy per queue',
    );
    await shot('#topology-view', 'patterns');
    await page.uncheck('#show-patterns');
  });

  it("shows order-processing filling while nobody consumes it and draining once a worker is back, and a service's restart", async () => {
    const port = services.orders!.port;
    const workerEnv = { INVENTORY_URL: services.inventory!.url, PAYMENTS_URL: services.payments!.url };
    await services.orders!.stop();
    await watch(
      'the orders chip to turn stale',
      () => chip('orders'),
      (c) => c?.includes('stale') ?? false,
    );
    expect(await page.locator('[data-service="orders"] .stale-marker').count()).toBe(1);
    // The same address answers again, but only the intake: orders pile up in the queue.
    const intake = await new ServiceProcess(
      'orders',
      port,
      serviceEnv('orders', env, { SERVICE_CONSUMERS: 'off' }),
    ).start();
    await watch(
      'the orders chip to be live again',
      () => chip('orders'),
      (c) => c?.includes('up') ?? false,
    );
    await placeOrders(150);
    const rising = await watch(
      'order-processing to fill up on the page',
      () => queueReady(Queues.orderProcessing),
      (n) => n >= 150,
    );
    expect(Math.max(...rising)).toBeGreaterThanOrEqual(150);
    expect(await page.locator(`[data-queue="${Queues.orderProcessing}"] .drain`).textContent()).toMatch(
      /growing|no consumer/,
    );
    await shot('#queues-view', 'queues');
    await intake.stop();
    services.orders = await new ServiceProcess('orders', port, serviceEnv('orders', env, workerEnv)).start();
    const falling = await watch(
      'order-processing to drain on the page',
      () => queueReady(Queues.orderProcessing),
      (n) => n === 0,
      90_000,
    );
    expect(falling.some((n) => n > 0)).toBe(true);
    expect(await chip('orders')).toContain('up');
  });

  it("shows a compensated order's saga: the reservation, the failed payment and the release, in order", async () => {
    // A customer with 1,000 on the account orders for 5,000: the payment fails and the saga releases the stock.
    const [orderId] = await placeOrders(1, poorUser(), 5_000);
    await watch(
      'the saga on the board',
      () => page.locator(`#sagas [data-order="${orderId}"]`).count(),
      (n) => n > 0,
    );
    await shot('#sagas-view', 'sagas');
    await page.locator(`#sagas [data-order="${orderId}"]`).first().click();
    const expected = [
      'inventory.reserve',
      'inventory.reserved',
      'payment.process',
      'payment.failed',
      'inventory.release',
      'order.cancelled',
    ];
    const types = await watch(
      'the whole compensation in the story',
      async () => {
        await page.click('#story-form button');
        await page.waitForTimeout(300);
        const items = await page.locator('#story li[data-type]').all();
        return Promise.all(items.map((item) => item.getAttribute('data-type')));
      },
      (shown) => expected.every((t) => shown.includes(t)),
    );
    const shown = types.at(-1)!;
    const positions = expected.map((t) => shown.indexOf(t));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    await shot('#story-view', 'story');
  });

  it('shows a dead-lettered message in its story, with the reason', async () => {
    const correlationId = `poison-${randomUUID()}`;
    const admin = new AmqpClient({ url: env.adminAmqpUrl, connectionName: 'console.browser.spec' });
    await admin.connect();
    try {
      // A body analytics cannot read: it goes to analytics-tracking-dlq at once, and audit stores it.
      await admin.publishRaw(DEFAULT_EXCHANGE, Queues.analyticsTracking, Buffer.from('{not json'), {
        messageId: randomUUID(),
        correlationId,
      });
    } finally {
      await admin.close();
    }
    await page.fill('#story-id', correlationId);
    const text = await watch(
      'the dead letter in the story',
      async () => {
        await page.click('#story-form button');
        await page.waitForTimeout(300);
        return (await page.locator('#story [data-dead-letter]').allTextContents()).join('\n');
      },
      (t) => t.includes('analytics-tracking-dlq'),
    );
    expect(text.at(-1)).toBeDefined();
    expect((text.at(-1) ?? '').toLowerCase()).toMatch(/json|parse|invalid/);
  });

  it('shows an event-sourced account with the balance as of each version', async () => {
    await page.fill('#account-id', user());
    await page.click('#account-form button');
    await page.waitForSelector('#account [data-version]');
    const balances = await page.locator('#account .balance').allTextContents();
    expect(balances.length).toBeGreaterThanOrEqual(2);
    expect(Number(balances[1])).toBe(ledger.ledger.deposits.get(user()));
    await shot('#account-view', 'account');
    await shot('#kafka-view', 'kafka');
    // The join counter behind the rebalance marks: analytics' member joined its group at start.
    const metrics = await (await fetch(`${services.analytics!.url}/metrics`)).text();
    expect(metrics).toMatch(/^consumer_group_joins_total\{topic="order-events",group="analytics"[^}]*\} [1-9]/m);
    expect(await page.locator('[data-group="order-events/analytics"] .lag').count()).toBe(1);
  });

  it('switches a fault on from the page (pause-relay on payments): listed, marked, an order waits; undone, it goes on', async () => {
    await page.waitForSelector('#faults [data-service-faults="payments"][data-allowed="true"]');
    await page.selectOption('#fault-service', 'payments');
    await page.selectOption('#fault-kind', 'pause-relay');
    expect(await page.locator('#fault-note').textContent()).toBe('');
    await page.fill('#fault-duration', '60');
    await page.click('#fault-on');
    const listed = page.locator('#faults tr[data-kind="pause-relay"]');
    await listed.waitFor({ timeout: 10_000 });
    expect(await listed.textContent()).toMatch(/pause-relay.*by tests.*since .*until /);
    expect(await page.locator('#fault-message').textContent()).toContain('pause-relay switched on in payments');
    // The service itself has it on, switched on with the viewer's token.
    const on = await http<{ faults: { id: string; kind: string; by: string }[] }>(
      'GET',
      `${services.payments!.url}/faults`,
    );
    expect(on.body.faults).toEqual([expect.objectContaining({ kind: 'pause-relay', by: 'tests' })]);
    // Its effect: the payment's reply waits in payments' outbox, the order stays pending; the outbox chart marks it.
    const [orderId] = await placeOrders(1);
    const unsent = () =>
      page
        .locator('#outbox [data-service="payments"] .unsent')
        .textContent()
        .then((t) => Number((t ?? '').replace(/,/g, '')));
    await watch('the reply to wait in payments outbox, on the page', unsent, (n) => n > 0, 30_000);
    const pending = await http<{ status: string }>('GET', `${services.orders!.url}/orders/${orderId}`);
    expect(pending.body.status).toBe('PENDING');
    expect(await page.locator('#outbox [data-service="payments"] .faults-on').textContent()).toBe(' pause-relay');
    expect(await page.locator('#outbox [data-service="payments"] line[data-fault-mark="on"]').count()).toBe(1);
    if (SHOTS) await page.waitForTimeout(6_000); // the backlog's sparkline a few seconds into the fault
    await shot('#faults-view', 'faults');
    await shot('#outbox-view', 'outbox');
    // Undone from the page: gone from the list and the service, the order goes through, the chart marks the end.
    await listed.locator('button.undo').click();
    await listed.waitFor({ state: 'detached', timeout: 10_000 });
    expect((await http<{ faults: unknown[] }>('GET', `${services.payments!.url}/faults`)).body.faults).toEqual([]);
    await watch(
      'payments to report no fault on',
      () => page.locator('#outbox [data-service="payments"] .faults-on').count(),
      (n) => n === 0,
      10_000,
    );
    await waitFor(
      `order ${orderId} to be confirmed`,
      async () =>
        (await http<{ status: string }>('GET', `${services.orders!.url}/orders/${orderId}`)).body.status ===
        'CONFIRMED',
      { timeoutMs: 30_000 },
    );
    await watch(
      'the end of the fault marked on the outbox chart',
      () => page.locator('#outbox [data-service="payments"] line[data-fault-mark="off"]').count(),
      (n) => n === 1,
      10_000,
    );
    expect(await unsent()).toBe(0);
  });

  it('shows the refusal where faults are not allowed, with the reason', async () => {
    await page.waitForSelector('#faults [data-service-faults="orders"][data-allowed="false"]');
    await page.selectOption('#fault-service', 'orders');
    expect(await page.locator('#fault-note').textContent()).toContain('Faults are off on orders');
    await page.selectOption('#fault-kind', 'slow-consumer');
    await page.selectOption('#fault-source', Queues.orderProcessing);
    await page.click('#fault-on');
    await page.waitForSelector('#fault-message.error');
    const refusal = await page.locator('#fault-message').textContent();
    expect(refusal).toContain('refused (403)');
    expect(refusal).toContain('FAULTS_ALLOWED=1');
    expect((await http<{ faults: unknown[] }>('GET', `${services.orders!.url}/faults`)).body.faults).toEqual([]);
    // The console's own checks (400, never a 500), and the service's answer passed on.
    const asOperator = { authorization: `Bearer ${await operatorToken()}` };
    const api = (method: 'POST' | 'DELETE', path: string, body?: unknown) =>
      http<{ message?: unknown }>(method, `${controlRoom.url}${path}`, body, asOperator);
    expect((await api('POST', '/api/faults', { service: 'nobody', kind: 'pause-relay' })).status).toBe(400);
    expect((await api('POST', '/api/faults', { service: 'payments', kind: 'pause-relay', durationS: 0 })).status).toBe(
      400,
    );
    expect((await api('DELETE', `/api/faults/nobody/${randomUUID()}`)).status).toBe(400);
    expect((await api('DELETE', '/api/faults/payments/not-a-uuid')).status).toBe(400);
    expect((await api('DELETE', `/api/faults/payments/${randomUUID()}`)).status).toBe(404);
    const wrongSource = await api('POST', '/api/faults', {
      service: 'payments',
      kind: 'slow-consumer',
      source: Queues.orderProcessing,
      delayMs: 10,
    });
    expect(wrongSource.status).toBe(400);
    expect(JSON.stringify(wrongSource.body)).toContain('this service consumes no order-processing');
  });

  it('threw no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
