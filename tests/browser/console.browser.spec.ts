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
// and a service restarts. `SCREENSHOTS=1` (npm run docs:screenshots) also saves each view into docs/images.
const env = testEnv();
const SHOTS = process.env.SCREENSHOTS === '1' ? 'docs/images' : undefined;
let services: Record<string, ServiceProcess>;
let controlRoom: ServiceProcess<'console'>;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
let ledger: Awaited<ReturnType<typeof seed>>;

beforeAll(async () => {
  services = await startAllServices();
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
    await shot('#outbox-view', 'outbox');
    await shot('#kafka-view', 'kafka');
    // The join counter behind the rebalance marks: analytics' member joined its group at start.
    const metrics = await (await fetch(`${services.analytics!.url}/metrics`)).text();
    expect(metrics).toMatch(/^consumer_group_joins_total\{topic="order-events",group="analytics"[^}]*\} [1-9]/m);
    expect(await page.locator('[data-group="order-events/analytics"] .lag').count()).toBe(1);
  });

  it('threw no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
