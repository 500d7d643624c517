import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { OrderCancelled, OrderConfirmed, OrderCreated, type OrderEvent } from '@am/contracts';
import { KafkaClient, Topics, recordFor } from '@am/messaging';
import {
  ServiceProcess,
  freePort,
  http,
  isolatedWorld,
  launchChromium,
  operatorToken,
  serviceEnv,
  startConsole,
  testEnv,
  waitFor,
  type IsolatedWorld,
} from '@am/testing';

// The Offsets view in a real browser against real services, Kafka and PostgreSQL: an operator previews a reset of the
// analytics read model's group, sees it refused while the group runs, has a reset refused by the service (409: the
// group started again after the preview) with the reason on the page and nothing changed, resets it once its
// consumers are stopped (the read model is rebuilt on restart, not doubled), and rebuilds the read model from offset 0
// with the progress bar and the comparison. Analytics runs as two processes of the same world: one that consumes (the
// group's member, stopped and started by the test) and an API-only one (SERVICE_CONSUMERS=off) the console calls.
// `SCREENSHOTS=1` saves the view into docs/images/console-offsets.png.
const env = testEnv();
const SHOTS = process.env.SCREENSHOTS === '1' ? 'docs/images' : undefined;
const ORDERS = 300;
let world: IsolatedWorld;
let kafka: KafkaClient;
let consumers: ServiceProcess | undefined;
let api: ServiceProcess;
const others: ServiceProcess[] = [];
let controlRoom: ServiceProcess<'console'>;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const events: OrderEvent[] = [];
const expected = { ordersCreated: ORDERS, ordersConfirmed: 0, ordersCancelled: 0, revenue: 0 };

for (let i = 0; i < ORDERS; i++) {
  const orderId = randomUUID();
  const data = { orderId, userId: `user-${i % 9}`, total: 500 + i };
  events.push(
    OrderCreated.create(
      { ...data, items: [{ sku: 'S', quantity: 1, unitPrice: data.total }] },
      { correlationId: orderId },
    ),
  );
  if (i % 3 === 1) {
    events.push(OrderConfirmed.create(data, { correlationId: orderId }));
    expected.ordersConfirmed += 1;
    expected.revenue += data.total;
  } else if (i % 3 === 2) {
    events.push(OrderCancelled.create({ ...data, reason: 'payment_failed' }, { correlationId: orderId }));
    expected.ordersCancelled += 1;
  }
}
const RECORDS = events.length;

async function sql<T>(text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: world.databaseUrl });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

const analyticsEnv = (consume: boolean) =>
  serviceEnv('analytics', env, { ...world.env, ...(consume ? {} : { SERVICE_CONSUMERS: 'off' }) });

async function startConsumers(): Promise<ServiceProcess> {
  consumers = await new ServiceProcess('analytics', await freePort(), analyticsEnv(true)).start(60_000);
  return consumers;
}

/** What Kafka says of the group `analytics` of this world. */
async function groupState(): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([kafka.name('analytics')]);
    return groups[0]?.state ?? 'Dead';
  } finally {
    await admin.disconnect();
  }
}

async function summary() {
  const { ordersCreated, ordersConfirmed, ordersCancelled, revenue } = (
    await http<typeof expected>('GET', `${api.url}/analytics/summary`)
  ).body;
  return { ordersCreated, ordersConfirmed, ordersCancelled, revenue };
}

const positions = () =>
  sql<{ topic: string; partition: number; next_offset: string }>(
    `SELECT topic, partition, next_offset FROM consumer_offsets
      WHERE group_id = '${world.kafkaPrefix}analytics' ORDER BY topic, partition`,
  );

beforeAll(async () => {
  world = await isolatedWorld('analytics', 'offsets_browser');
  kafka = new KafkaClient({
    brokers: [env.kafkaBrokers],
    clientId: 'offsets.browser',
    credentials: env.kafkaAdmin,
    prefix: world.kafkaPrefix,
  });
  await kafka.connectProducer();
  await kafka.send(events.map((e) => recordFor(Topics.orderEvents, e.data.orderId, e)));
  await startConsumers();
  api = await new ServiceProcess('analytics', await freePort(), analyticsEnv(false)).start(60_000);
  await waitFor(
    'analytics to count every order',
    async () => JSON.stringify(await summary()) === JSON.stringify(expected),
    {
      timeoutMs: 60_000,
    },
  );
  // audit consumes the same world's topics (its groups run); email serves its routes only (its group is stopped).
  others.push(
    await new ServiceProcess(
      'audit',
      await freePort(),
      serviceEnv('audit', env, { KAFKA_PREFIX: world.kafkaPrefix }),
    ).start(60_000),
    await new ServiceProcess(
      'email',
      await freePort(),
      serviceEnv('email', env, { KAFKA_PREFIX: world.kafkaPrefix, SERVICE_CONSUMERS: 'off' }),
    ).start(60_000),
  );
  const closed = 'http://127.0.0.1:9';
  controlRoom = await startConsole(
    { analytics: api, audit: others[0]!, email: others[1]! },
    { ORDERS_URL: closed, INVENTORY_URL: closed, PAYMENTS_URL: closed },
  );
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${controlRoom.url}/#token=${await operatorToken()}`);
  await page.waitForSelector('#offset-groups [data-group-state="analytics"]', { timeout: 30_000 });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([controlRoom, consumers, api, ...others].filter(Boolean).map((s) => s!.stop()));
  await kafka?.close();
});

/** Waits until the page's list of groups says the group `analytics` is stopped (or running). */
const listed = (stopped: boolean) =>
  page.waitForSelector(`#offset-groups [data-group-state="analytics"][data-stopped="${stopped}"]`, { timeout: 30_000 });

async function previewFromPage(to: 'earliest' | 'latest'): Promise<void> {
  await page.selectOption('#offset-group', 'analytics');
  await page.selectOption('#offset-to', to);
  const answered = page.waitForResponse((r) => r.url().includes('/reset-preview'));
  await page.click('#offset-preview-button');
  await answered;
  await page.waitForSelector('#offset-preview .summary');
}

const message = async () => ({
  status: await page.locator('#offset-message').getAttribute('data-status'),
  text: (await page.locator('#offset-message').textContent()) ?? '',
});

describe('the Offsets view in a browser', () => {
  it('previews a reset of the running read model: every record counted per partition, and why a reset would be refused', async () => {
    await listed(false);
    expect(await page.locator('#offset-groups [data-group-state="audit"]').getAttribute('data-stopped')).toBe('false');
    expect(
      await page.locator('#offset-groups [data-group-state="order-notifications"]').getAttribute('data-stopped'),
    ).toBe('true');
    await previewFromPage('earliest');
    expect(Number(await page.locator('#offset-preview .summary').getAttribute('data-re-read'))).toBe(RECORDS);
    expect(await page.locator('#offset-preview .summary').textContent()).toBe(`${RECORDS} records will be re-read`);
    const rows = page.locator('#offset-preview [data-partition]');
    expect(await rows.count()).toBe(6);
    const perPartition: number[] = [];
    for (let i = 0; i < 6; i++) perPartition.push(Number(await rows.nth(i).getAttribute('data-re-read')));
    expect(perPartition.reduce((a, b) => a + b, 0)).toBe(RECORDS);
    const stored = await positions();
    const onMain = stored.filter((p) => p.topic === `${world.kafkaPrefix}${Topics.orderEvents}`);
    expect(onMain.reduce((n, p) => n + Number(p.next_offset), 0)).toBe(RECORDS);
    expect(await page.locator('#offset-preview .refusal').textContent()).toMatch(/not stopped: Kafka says Stable/);
    expect(await page.locator('#offset-preview .meaning').textContent()).toMatch(/order_stats\) is emptied/);
    expect(await page.locator('#offset-reset').isDisabled()).toBe(true);
  });

  it('shows the 409 of a reset the service refuses, changing nothing; once the consumers stop, resets, and the group rebuilds the model, not doubled', async () => {
    await consumers!.stop();
    await listed(true);
    await previewFromPage('earliest');
    expect(await page.locator('#offset-preview .refusal').count()).toBe(0);
    expect(await page.locator('#offset-reset').isEnabled()).toBe(true);

    // The group starts again after the preview: the button still follows the preview, the service refuses.
    const before = await positions();
    await startConsumers();
    await waitFor('the group to have its member again', async () => (await groupState()) === 'Stable', {
      timeoutMs: 30_000,
    });
    const refused = page.waitForResponse((r) => r.url().endsWith('/api/consumer-groups/analytics/reset'));
    await page.click('#offset-reset');
    expect((await refused).status()).toBe(409);
    await page.waitForSelector('#offset-message[data-status="409"]');
    expect((await message()).text).toMatch(
      /^refused \(409\): consumer group analytics is not stopped: Kafka says Stable/,
    );
    await page.waitForSelector('#offset-preview .refusal');
    expect(await page.locator('#offset-reset').isDisabled()).toBe(true);
    expect(await positions()).toEqual(before);
    expect(await summary()).toEqual(expected);

    // Stopped again: the reset empties the read model with its positions.
    await consumers!.stop();
    await listed(true);
    await previewFromPage('earliest');
    const done = page.waitForResponse((r) => r.url().endsWith('/api/consumer-groups/analytics/reset'));
    await page.click('#offset-reset');
    expect((await done).status()).toBe(200);
    await page.waitForSelector('#offset-message[data-status="200"]');
    expect((await message()).text).toBe(`analytics reset to earliest by tests: ${RECORDS} records will be re-read`);
    expect((await sql<{ n: number }>('SELECT count(*)::int AS n FROM order_stats'))[0]!.n).toBe(0);
    expect((await positions()).every((p) => p.next_offset === '0')).toBe(true);
    await page.waitForSelector('#offset-preview .summary[data-re-read="0"]');

    const restarted = await startConsumers();
    await waitFor(
      'the group to read every record again',
      async () => (await restarted.consumed(Topics.orderEvents)) >= RECORDS,
      {
        timeoutMs: 60_000,
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await restarted.consumed(Topics.orderEvents)).toBe(RECORDS);
    expect(await summary()).toEqual(expected);
  });

  it('rebuilds the read model from offset 0 from the page, with its progress, and shows the rebuilt totals against the live ones', async () => {
    // Spoil the live table, so that the rebuild has something to repair and the comparison something to show.
    await sql("UPDATE order_stats SET status = 'CREATED'");
    const started = page.waitForResponse(
      (r) => r.url().endsWith('/api/analytics/rebuild') && r.request().method() === 'POST',
    );
    await page.click('#rebuild-start');
    expect((await started).status()).toBe(202);
    await page.waitForSelector('#rebuild-message[data-status="202"]');
    const seen: number[] = [];
    await waitFor(
      'the rebuild to be done on the page',
      async () => {
        seen.push(Number(await page.locator('#rebuild-progress').getAttribute('value')));
        return (await page.locator('#rebuild-phase').getAttribute('data-phase')) === 'done';
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(
      Number(await page.locator('#rebuild-progress').evaluate((el) => (el as unknown as { value: number }).value)),
    ).toBe(100);
    expect(await page.locator('#rebuild-percent').textContent()).toBe('100 %');
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    const figure = (key: string, side: 'live' | 'rebuilt') =>
      page
        .locator(`#rebuild [data-figure="${key}"] .${side}`)
        .textContent()
        .then((t) => Number((t ?? '').replace(/,/g, '')));
    expect(await figure('ordersCreated', 'rebuilt')).toBe(ORDERS);
    expect(await figure('ordersConfirmed', 'rebuilt')).toBe(expected.ordersConfirmed);
    expect(await figure('ordersConfirmed', 'live')).toBe(0);
    expect(await figure('revenue', 'rebuilt')).toBe(expected.revenue);
    expect(await page.locator('#rebuild [data-equal]').getAttribute('data-equal')).toBe('false');
    expect(await page.locator('#rebuild [data-equal]').textContent()).toMatch(
      `${expected.ordersConfirmed + expected.ordersCancelled} orders differed`,
    );
    // The system, not only the page: the live read model is the rebuilt one.
    expect(await summary()).toEqual(expected);
    const rebuilt = page.locator('#rebuild [data-rebuild-partition]');
    expect(await rebuilt.count()).toBe(3);

    // For the picture: the preview of the running group beside the finished rebuild.
    await listed(false);
    await previewFromPage('earliest');
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.locator('#offsets-view').screenshot({ path: `${SHOTS}/console-offsets.png` });
    }
    expect(pageErrors).toEqual([]);
  });
});
