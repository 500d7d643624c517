import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqp from 'amqplib';
import type { Browser, Page } from 'playwright-core';
import { Queues } from '@am/messaging';
import {
  ServiceProcess,
  http,
  launchChromium,
  newRunId,
  operatorToken,
  pool,
  provisionWorld,
  seed,
  startAllServices,
  startConsole,
  testEnv,
  tokenFor,
  waitFor,
  type ProvisionedWorld,
} from '@am/testing';

// The fault buttons that stop consumers and send poison messages, clicked in a real browser against the six real
// services (each with FAULTS_ALLOWED=1) and this run's brokers: then the system itself is checked, not only the page.
// `SCREENSHOTS=1` also saves the faults view into docs/images/console-fault-buttons.png. The file runs in a world of its
// own (vhost, topics, databases): its poison message never reaches the run's other files.
const env = testEnv(newRunId());
let world: ProvisionedWorld;
const SHOTS = process.env.SCREENSHOTS === '1' ? 'docs/images' : undefined;
const allowed = { FAULTS_ALLOWED: '1' };
let services: Record<string, ServiceProcess>;
let controlRoom: ServiceProcess<'console'>;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
let ledger: Awaited<ReturnType<typeof seed>>;

beforeAll(async () => {
  world = await provisionWorld(env);
  services = await startAllServices(
    {
      // The saga's deadline well past the stop below: the orders wait for payments, they do not time out.
      orders: { ...allowed, SAGA_STEP_TIMEOUT_MS: '120000' },
      inventory: allowed,
      payments: allowed,
      email: allowed,
      analytics: allowed,
      audit: allowed,
    },
    env,
  );
  controlRoom = await startConsole(services, {}, undefined, env);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  ledger = await seed(
    { orders: services.orders!.url, inventory: services.inventory!.url, payments: services.payments!.url },
    1,
    1_000,
    1,
    1_000,
  );
  await page.goto(`${controlRoom.url}/#token=${await operatorToken()}`);
  await page.waitForSelector('#faults [data-service-faults="payments"][data-allowed="true"]', { timeout: 20_000 });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([controlRoom, ...Object.values(services ?? {})].filter(Boolean).map((s) => s.stop()));
  await world?.teardown();
});

async function placeOrders(count: number): Promise<string[]> {
  return pool(count, 5, async () => {
    const answer = await http<{ orderId: string }>('POST', `${services.orders!.url}/orders`, {
      userId: ledger.userIds[0]!,
      items: [{ sku: ledger.skuIds[0]!, quantity: 1, unitPrice: 1 }],
    });
    expect(answer.status).toBe(202);
    return answer.body.orderId;
  });
}

/** Polls until `read` returns a value `done` accepts; returns the last one. */
async function watch<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000) {
  let last: T | undefined;
  await waitFor(
    what,
    async () => {
      last = await read();
      return done(last);
    },
    { timeoutMs, intervalMs: 250 },
  );
  return last as T;
}

/** The broker's own count of a queue's ready messages and consumers, read as the run's administrator. */
async function queue(name: string): Promise<{ messages: number; consumers: number }> {
  const connection = await amqp.connect(env.adminAmqpUrl);
  try {
    const ok = await (await connection.createChannel()).checkQueue(name);
    return { messages: ok.messageCount, consumers: ok.consumerCount };
  } finally {
    await connection.close();
  }
}

const queueReady = (name: string) =>
  page
    .locator(`[data-queue="${name}"] .ready`)
    .textContent()
    .then((t) => Number((t ?? '').replace(/,/g, '')));

const faultsActive = async (service: string) =>
  (await (await fetch(`${services[service]!.url}/metrics`)).text())
    .split('\n')
    .filter((l) => l.startsWith('faults_active{'));

const status = async (orderId: string) =>
  (await http<{ status: string }>('GET', `${services.orders!.url}/orders/${orderId}`)).body.status;

describe('the fault buttons in a browser', () => {
  /** Audit's trail of operators' actions, newest first. */
  async function trail(query: string) {
    const { body } = await http<{
      actions: { action: string; operator: string; target: string | null; details: Record<string, unknown> }[];
    }>('GET', `${services.audit!.url}/operator-actions?${query}`);
    return body.actions;
  }

  it('stops all of payments consumers from the page: payment.process fills, the metrics say so; undone, it drains', async () => {
    await page.selectOption('#fault-service', 'payments');
    await page.selectOption('#fault-kind', 'stop-consumers');
    // The form offers every consumer running in payments, and all of them at once.
    const offered = await page.locator('#fault-source option').allTextContents();
    expect(offered).toEqual(expect.arrayContaining(['all its consumers', Queues.paymentProcess]));
    await page.selectOption('#fault-source', { label: 'all its consumers' });
    await page.fill('#fault-duration', '120');
    await page.click('#fault-on');
    const listed = page.locator('#faults tr[data-kind="stop-consumers"]');
    await listed.waitFor({ timeout: 10_000 });
    expect(await listed.textContent()).toMatch(/stop-consumers on all its consumers.*by tests/);

    // The system: payments' consumers are cancelled, its gauge says who stopped them, /health stays up and says so.
    await waitFor(
      'payments consumers to be cancelled',
      async () => (await queue(Queues.paymentProcess)).consumers === 0,
    );
    expect((await queue(Queues.paymentRefund)).consumers).toBe(0);
    expect(await faultsActive('payments')).toEqual([
      expect.stringMatching(/kind="stop-consumers",source="",by="tests".* 1$/),
    ]);
    const health = await http<{ details: { consumers: unknown } }>('GET', `${services.payments!.url}/health`);
    expect(health.status).toBe(200);
    expect(health.body.details.consumers).toMatchObject({ stoppedByOperator: [{ source: 'all', by: 'tests' }] });

    // Orders keep coming: their payments wait in payment.process, the page shows the queue fill, marked.
    const waiting = await placeOrders(5);
    await waitFor('the five payments in the queue', async () => (await queue(Queues.paymentProcess)).messages === 5, {
      timeoutMs: 30_000,
    });
    await watch(
      'the page to show payment.process filled',
      () => queueReady(Queues.paymentProcess),
      (n) => n === 5,
    );
    expect(
      await page.locator(`[data-queue="${Queues.paymentProcess}"] line[data-fault-mark="on"]`).count(),
    ).toBeGreaterThan(0);
    expect(await page.locator('#outbox [data-service="payments"] .faults-on').textContent()).toBe(' stop-consumers');
    for (const id of waiting) expect(await status(id)).toBe('PENDING');
    await page.locator('#queues-view').scrollIntoViewIfNeeded();
    await shot('#faults-view', 'fault-buttons');

    // Undone from the page: the consumers start again, the queue drains, every order confirms.
    await listed.locator('button.undo').click();
    await listed.waitFor({ state: 'detached', timeout: 10_000 });
    for (const id of waiting) {
      await waitFor(`order ${id} to confirm`, async () => (await status(id)) === 'CONFIRMED', { timeoutMs: 30_000 });
    }
    expect(await queue(Queues.paymentProcess)).toEqual({ messages: 0, consumers: 1 });
    expect(await faultsActive('payments')).toEqual([]);
    await watch(
      'the page to show payment.process drained',
      () => queueReady(Queues.paymentProcess),
      (n) => n === 0,
    );
    await watch(
      'the end of the stop marked on the queue',
      () => page.locator(`[data-queue="${Queues.paymentProcess}"] line[data-fault-mark="off"]`).count(),
      (n) => n > 0,
      10_000,
    );
    // The trail of operators' actions: payments recorded both clicks, with the operator, before acting on them.
    const recorded = await waitFor('the stop and its undo in the trail', async () => {
      const actions = await trail('service=payments&action=fault');
      const stop = actions.filter((a) => a.details.kind === 'stop-consumers');
      return stop.length >= 2 ? stop : undefined;
    });
    expect(recorded.slice(0, 2).map((a) => [a.action, a.operator])).toEqual([
      ['fault.off', 'tests'],
      ['fault.on', 'tests'],
    ]);
    // And on the page, under the faults: the trail's newest actions.
    await page.locator('#operator-actions [data-action="fault.off"]').first().waitFor({ timeout: 10_000 });
    expect(await page.locator('#operator-actions [data-action="fault.on"]').first().textContent()).toContain(
      'by tests',
    );
  }, 120_000);

  it('sends a poison message from the page: each consumer dead-letters its copy with the reason, shown in its story', async () => {
    await page.selectOption('#poison-destination', 'orders user-events');
    await page.selectOption('#poison-variant', 'unknown-type');
    await page.click('#poison-send');
    await page.waitForSelector('#fault-message.ok [data-poison]');
    const correlationId = await page.locator('#fault-message [data-poison]').getAttribute('data-poison');
    expect(correlationId).toMatch(/^poison-/);
    // The system: the fanout's four queues each dead-letter their copy at once; audit stores each with its reason.
    const stored = await waitFor(
      'the four dead letters in the store',
      async () => {
        const { body } = await http<{ deadLetters: { queue: string; reason: string }[] }>(
          'GET',
          `${services.audit!.url}/dead-letters?correlationId=${correlationId}`,
        );
        return body.deadLetters.length === 4 ? body.deadLetters : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(stored.map((d) => d.queue).sort()).toEqual(
      ['analytics-tracking-dlq', 'audit-log-dlq', 'email-notifications-dlq', 'payments-accounts-dlq'].sort(),
    );
    for (const d of stored) expect(d.reason).toBe('InvalidMessageError: unknown message type: poison.unknown-type');
    // The page: its story lists the dead letters with their reason.
    await page.click('#fault-message [data-poison]');
    await page.waitForSelector('#story [data-dead-letter]');
    const letters = await page.locator('#story [data-dead-letter]').allTextContents();
    expect(letters).toHaveLength(4);
    for (const text of letters) expect(text).toContain('unknown message type: poison.unknown-type');
    // The trail of operators' actions: orders recorded the poison it sent, and who asked for it.
    const poisoned = await waitFor('the poison in the trail', async () =>
      (await trail('service=orders&action=fault.poison')).find((a) => a.details.correlationId === correlationId),
    );
    expect(poisoned).toMatchObject({ operator: 'tests', target: 'user-events' });
    // Nothing else is affected: an order placed now goes through.
    const [next] = await placeOrders(1);
    await waitFor('the next order to confirm', async () => (await status(next!)) === 'CONFIRMED', {
      timeoutMs: 30_000,
    });
  }, 60_000);

  it("refuses a customer's token, and bad input with a 400 that changes nothing", async () => {
    const customer = { authorization: `Bearer ${await tokenFor({ role: 'customer', subject: ledger.userIds[0]! })}` };
    const asCustomer = (path: string, body: unknown) => http('POST', `${controlRoom.url}${path}`, body, customer);
    expect(
      (
        await asCustomer('/api/faults/poison', {
          service: 'orders',
          destination: 'user-events',
          variant: 'unknown-type',
        })
      ).status,
    ).toBe(403);
    expect((await asCustomer('/api/faults', { service: 'payments', kind: 'stop-consumers' })).status).toBe(403);
    // The services themselves refuse it too.
    expect(
      (
        await http(
          'POST',
          `${services.orders!.url}/faults/poison`,
          { destination: 'user-events', variant: 'unknown-type' },
          customer,
        )
      ).status,
    ).toBe(403);
    const asOperator = { authorization: `Bearer ${await operatorToken()}` };
    const api = (body: unknown) =>
      http<{ message?: unknown; reason?: string }>('POST', `${controlRoom.url}/api/faults/poison`, body, asOperator);
    expect((await api({ service: 'nobody', destination: 'user-events', variant: 'unparseable' })).status).toBe(400);
    expect((await api({ service: 'orders', destination: 'user-events', variant: 'nasty' })).status).toBe(400);
    const elsewhere = await api({ service: 'payments', destination: 'user-events', variant: 'unparseable' });
    expect(elsewhere.status).toBe(400);
    expect(JSON.stringify(elsewhere.body)).toContain('publishes no user-events');
    const faults = await http<{ services: { faults: unknown[] }[] }>(
      'GET',
      `${controlRoom.url}/api/faults`,
      undefined,
      asOperator,
    );
    expect(faults.body.services.flatMap((s) => s.faults)).toEqual([]);
  });

  it('threw no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});

async function shot(section: string, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.locator(section).screenshot({ path: `${SHOTS}/console-${name}.png` });
}
