import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Channel } from 'amqplib';
import { PlaceOrder } from '@am/contracts';
import { AmqpClient, DEFAULT_EXCHANGE, Queues } from '@am/messaging';
import {
  ServiceProcess,
  http,
  launchChromium,
  operatorToken,
  query,
  serviceEnv,
  startConsole,
  startServices,
  testEnv,
  tokenFor,
  waitFor,
} from '@am/testing';

// The dead-letter workbench in a real browser, against real orders and audit processes, this run's RabbitMQ and
// PostgreSQL. The dead letters are real: orders fails place-order tasks for a user it does not know (three retries,
// then order-processing-dlq) and tasks whose total is not a number (at once). From the page an operator replays one
// after fixing its cause, edits one and sends the edit, replays a selection at a rate, and replays a group whose cause
// is not fixed; each time the test checks the system itself: orders' tables, the queue, audit's rows.
// `SCREENSHOTS=1` also saves the view as docs/images/console-dead-letters.png.
const env = testEnv();
const SHOTS = process.env.SCREENSHOTS === '1' ? 'docs/images' : undefined;
let services: Record<string, ServiceProcess>;
let controlRoom: ServiceProcess<'console'>;
let browser: Browser;
let page: Page;
let admin: AmqpClient;
const pageErrors: string[] = [];

interface Letter {
  id: number;
  messageId: string;
  replayedAt: string | null;
  replayCount: number;
  replayedBy: string | null;
  cameBackAt: string | null;
}
interface Group {
  fingerprint: string;
  ids: number[];
  waiting: number;
}

beforeAll(async () => {
  services = await startServices(['audit', 'orders']);
  controlRoom = await startConsole(services);
  admin = new AmqpClient({ url: env.adminAmqpUrl, connectionName: 'workbench.browser.spec' });
  await admin.connect();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${controlRoom.url}/#token=${await operatorToken()}`);
  await page.waitForSelector('#dl-groups table, #dl-groups p', { timeout: 20_000 });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await admin?.close();
  await Promise.all([controlRoom, ...Object.values(services ?? {})].filter(Boolean).map((s) => s.stop()));
});

const audit = (path: string) => `${services.audit!.url}${path}`;
const orders = (path: string) => `${services.orders!.url}${path}`;

async function registeredUser(): Promise<string> {
  const user = await http<{ userId: string }>('POST', orders('/users'), {
    email: `${randomUUID()}@example.com`,
    name: 'Wendy Workbench',
  });
  expect(user.status).toBe(201);
  return user.body.userId;
}

/** A place-order task sent to order-processing as the intake would; `total` may be made wrong on purpose. */
async function sendTask(userId: string, total: unknown = 1_000): Promise<PlaceOrder> {
  const orderId = randomUUID();
  const task = PlaceOrder.create(
    {
      orderId,
      userId,
      items: [{ sku: 'WB-1', quantity: 1, unitPrice: 1_000 }],
      total: 1_000,
      placedAt: new Date().toISOString(),
    },
    { correlationId: orderId },
  );
  const body = Buffer.from(JSON.stringify({ ...task, data: { ...task.data, total } }));
  await admin.publishRaw(DEFAULT_EXCHANGE, Queues.orderProcessing, body, {
    messageId: task.messageId,
    type: task.type,
    correlationId: orderId,
  });
  return task;
}

/** The dead letter audit stored for `task`'s message (orders gave up on it). */
const deadLetterOf = (task: PlaceOrder) =>
  waitFor(
    `the dead letter of ${task.messageId}`,
    async () => {
      const list = await http<{ deadLetters: Letter[] }>(
        'GET',
        audit(`/dead-letters?correlationId=${task.correlationId}`),
      );
      return list.body.deadLetters.find((d) => d.messageId === task.messageId);
    },
    { timeoutMs: 30_000 },
  );

async function groupOf(letterId: number): Promise<Group> {
  const { body } = await http<{ groups: Group[] }>('GET', audit('/dead-letter-groups'));
  return body.groups.find((g) => g.ids.includes(letterId))!;
}

const letterNow = async (id: number) => (await http<Letter>('GET', audit(`/dead-letters/${id}`))).body;
const orderOf = (task: PlaceOrder) => http<{ total: number }>('GET', orders(`/orders/${task.data.orderId}`));

/** Opens a letter's group on the page, then the letter itself. */
async function openOnPage(letter: Letter): Promise<void> {
  const group = await groupOf(letter.id);
  await page.locator(`[data-open-group="${group.fingerprint}"]`).click({ timeout: 15_000 });
  await page.locator(`#dl-group [data-open-letter="${letter.id}"]`).click({ timeout: 10_000 });
  await page.waitForSelector(`#dl-letter [data-letter="${letter.id}"]`);
}

async function restartOrders(): Promise<void> {
  const port = services.orders!.port;
  services.orders = await new ServiceProcess('orders', port, serviceEnv('orders', env)).start();
}

const ready = async () => (await admin.queueDepths([Queues.orderProcessing]))[0]?.messages ?? 0;

describe('the dead-letter workbench in a browser', () => {
  it('lists the group of a real dead letter; replayed from the page after the fix, it reaches orders once and stops waiting', async () => {
    const stranger = randomUUID();
    const task = await sendTask(stranger);
    const letter = await deadLetterOf(task);
    expect(letter.replayedAt).toBeNull();
    const group = await groupOf(letter.id);
    const row = page.locator(`#dl-groups [data-group-id="${group.fingerprint}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.locator('.where, td').first().textContent()).toContain('order-processing-dlq');
    await openOnPage(letter);
    // Inspect: the consumer that failed, the retries, the headers, the dry run, the link to its story.
    const pane = page.locator('#dl-letter');
    expect(await pane.locator('.consumer').textContent()).toBe('orders');
    expect(await pane.textContent()).toContain('after 3 retries');
    expect(await pane.locator('table.kv').first().textContent()).toContain('x-original-queue');
    expect(await pane.locator('.plan-to').textContent()).toContain(`routing key ${Queues.orderProcessing}`);
    expect(await pane.locator('.history li').count()).toBe(1);
    expect(await pane.locator('.story-link').getAttribute('data-story')).toBe(task.correlationId);
    // The fix: the user exists now. Then one click.
    await query(env, 'orders', 'INSERT INTO users (id, email, name) VALUES ($1, $2, $3)', [
      stranger,
      `${stranger}@example.com`,
      'Late Larry',
    ]);
    await page.click('#dl-send');
    await page.waitForSelector('#dl-message.ok');
    expect(await page.locator('#dl-message').textContent()).toContain(`replayed to ${Queues.orderProcessing} by tests`);
    // The system: the order is made, orders' inbox has the message once, audit records one replay by the operator.
    await waitFor('the order from the replay', async () => (await orderOf(task)).status === 200, { timeoutMs: 20_000 });
    const inbox = await query<{ n: number }>(
      env,
      'orders',
      'SELECT count(*)::int AS n FROM processed_messages WHERE message_id = $1',
      [task.messageId],
    );
    expect(inbox[0]!.n).toBe(1);
    expect(await letterNow(letter.id)).toMatchObject({ replayCount: 1, replayedBy: 'tests', cameBackAt: null });
    // The trail of operators' actions: the replay, by the operator, recorded by audit before it was sent.
    const trail = await waitFor('the replay in the trail of operator actions', async () => {
      const { body } = await http<{ actions: { action: string; operator: string; service: string }[] }>(
        'GET',
        audit(`/operator-actions?action=dead-letter.replay&target=${letter.id}`),
      );
      return body.actions.length > 0 ? body.actions : undefined;
    });
    expect(trail).toEqual([expect.objectContaining({ operator: 'tests', service: 'audit' })]);
    // It left the waiting list: on the page, and a second replay is not offered (audit would refuse it: 409).
    await page.locator(`#dl-group [data-letter-id="${letter.id}"][data-state="replayed"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator('#dl-send').isDisabled()).toBe(true);
    expect((await http('POST', audit(`/dead-letters/${letter.id}/replay`))).status).toBe(409);
    // Its story, one click away: the dead letter among the messages of its order.
    await page.click('#dl-letter .story-link');
    await page.locator(`#story [data-dead-letter="${letter.id}"]`).waitFor({ timeout: 10_000 });
    expect(await page.inputValue('#story-id')).toBe(task.correlationId);
  });

  it('sends an edited dead letter only once it is valid, and sends the edit alone', async () => {
    const user = await registeredUser();
    const task = await sendTask(user, 'ten euros');
    const letter = await deadLetterOf(task);
    await openOnPage(letter);
    // The consumer away: what the replay sends stays in the queue, to be counted.
    const before = await ready();
    await services.orders!.stop();
    const original = await page.inputValue('#dl-edit');
    expect(original).toContain('"total": "ten euros"');
    expect(await page.locator('#dl-send').textContent()).toBe('send as stored');
    // An invalid edit: the diff shows it, audit's reason is shown, and it cannot be sent.
    await page.fill('#dl-edit', original.replace('"ten euros"', '-5'));
    const line = original.split('\n').find((l) => l.includes('"total"'))!;
    expect(await page.locator('#dl-diff .removed').allTextContents()).toEqual([`- ${line}`]);
    expect(await page.locator('#dl-diff .added').allTextContents()).toEqual([`+ ${line.replace('"ten euros"', '-5')}`]);
    expect(await page.locator('#dl-send').isDisabled()).toBe(true);
    await page.click('#dl-check');
    await page.waitForSelector('#dl-message.error');
    expect(await page.locator('#dl-message').textContent()).toMatch(/refused \(400\): the edited message is not valid/);
    expect(await page.locator('#dl-send').isDisabled()).toBe(true);
    // A valid one: checked by audit (its dry run shown), then sent.
    await page.fill('#dl-edit', original.replace('"ten euros"', '1000'));
    await page.click('#dl-check');
    await page.waitForSelector('#dl-message.ok');
    expect(await page.locator('#dl-edit-plan .changed').textContent()).toBe('changed: data.total');
    expect(await page.locator('#dl-edit-plan .plan-body').textContent()).toContain('"total":1000');
    expect(await page.locator('#dl-send').isDisabled()).toBe(false);
    await page.click('#dl-send');
    await page.locator('#dl-message.ok', { hasText: '(edited: data.total)' }).waitFor();
    // Exactly one message went out: the queue holds one more, and stays so.
    await waitFor('the replay in the queue', async () => (await ready()) === before + 1);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await ready()).toBe(before + 1);
    await restartOrders();
    // It was the edit: the order has the edited total, and nothing came back (the stored body would fail again).
    const made = await waitFor(
      'the order from the edited message',
      async () => {
        const got = await orderOf(task);
        return got.status === 200 ? got.body : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(made.total).toBe(1_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await letterNow(letter.id)).toMatchObject({ replayCount: 1, cameBackAt: null });
  });

  it('replays a selection at the rate asked: the dry run first, then one message each, spaced, with its progress', async () => {
    const stranger = randomUUID();
    const tasks = await Promise.all(Array.from({ length: 8 }, () => sendTask(stranger)));
    const letters = await Promise.all(tasks.map(deadLetterOf));
    await query(env, 'orders', 'INSERT INTO users (id, email, name) VALUES ($1, $2, $3)', [
      stranger,
      `${stranger}@example.com`,
      'Bulk Bob',
    ]);
    // orders away; the test holds order-processing and notes when each message arrives.
    await services.orders!.stop();
    const channel: Channel = await admin.createChannel();
    const arrivals: { messageId: string; at: number }[] = [];
    await channel.prefetch(100);
    await channel.consume(Queues.orderProcessing, (message) => {
      if (message) arrivals.push({ messageId: String(message.properties.messageId), at: Date.now() });
    });
    try {
      await openOnPage(letters[0]!);
      for (const letter of letters) await page.check(`#dl-group [data-select="${letter.id}"]`);
      await page.fill('#dl-rate', '4');
      await page.click('#dl-bulk-selected');
      const preview = page.locator('#dl-bulk-preview .preview');
      await preview.waitFor();
      expect(await preview.getAttribute('data-will-send')).toBe('8');
      expect(await preview.textContent()).toContain(`${Queues.orderProcessing} (8)`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(arrivals).toEqual([]);
      await page.click('#dl-bulk-start');
      await page.waitForSelector('#dl-run [data-state="running"]');
      await page.waitForSelector('#dl-run [data-state="done"]', { timeout: 20_000 });
      expect(await page.locator('#dl-run .sent').textContent()).toBe('8');
      expect(await page.locator('#dl-run .remaining').textContent()).toBe('0');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      // One message per dead letter, at 4 a second: 7 gaps of 250 ms.
      expect(arrivals.map((a) => a.messageId).sort()).toEqual(tasks.map((t) => t.messageId).sort());
      const times = arrivals.map((a) => a.at);
      expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(1_550);
      expect(Math.min(...times.slice(1).map((t, i) => t - times[i]!))).toBeGreaterThanOrEqual(150);
    } finally {
      // Not acknowledged: back on the queue for orders.
      await channel.close();
    }
    await restartOrders();
    await waitFor(
      'the eight orders',
      async () => (await Promise.all(tasks.map(orderOf))).every((o) => o.status === 200),
      { timeoutMs: 30_000 },
    );
    for (const letter of letters) expect(await letterNow(letter.id)).toMatchObject({ replayCount: 1 });
  });

  it('warns, on the page, of new failures of the group while a bulk replay runs without the cause fixed', async () => {
    const user = await registeredUser();
    const tasks = [
      await sendTask(user, 'ten euros'),
      await sendTask(user, 'ten euros'),
      await sendTask(user, 'ten euros'),
    ];
    const letters = await Promise.all(tasks.map(deadLetterOf));
    await openOnPage(letters[0]!);
    await page.fill('#dl-rate', '1');
    await page.click('#dl-bulk-group');
    await page.locator('#dl-bulk-preview .preview').waitFor();
    await page.click('#dl-bulk-start');
    // Each replayed task fails again at once: new dead letters of the same group, while the run goes on.
    const warning = page.locator('#dl-run-warning.alarm');
    await warning.waitFor({ timeout: 20_000 });
    expect(Number(await warning.getAttribute('data-new-failures'))).toBeGreaterThanOrEqual(1);
    expect(await warning.textContent()).toMatch(/new failures? of this group since the run started/);
    expect(await warning.textContent()).toContain('failing again');
    await page.waitForSelector('#dl-run [data-state="done"]', { timeout: 20_000 });
    await waitFor(
      'the warning to count all three',
      async () => Number(await warning.getAttribute('data-new-failures')) >= 3,
    );
    // The system agrees: each replayed letter came back.
    await waitFor('the letters flagged as come back', async () =>
      (await Promise.all(letters.map((l) => letterNow(l.id)))).every((l) => l.cameBackAt !== null),
    );
    if (SHOTS) {
      // The picture: the run and its warning, the groups, and a letter with an edit under way.
      const fresh = await waitFor('a fresh letter of the group', async () => {
        const list = await http<{ deadLetters: Letter[] }>(
          'GET',
          audit(`/dead-letters?correlationId=${tasks[0]!.correlationId}`),
        );
        return list.body.deadLetters.find((d) => d.replayedAt === null);
      });
      await page.locator(`#dl-group [data-open-letter="${fresh.id}"]`).click({ timeout: 10_000 });
      await page.waitForSelector(`#dl-letter [data-letter="${fresh.id}"]`);
      await page.fill('#dl-edit', (await page.inputValue('#dl-edit')).replace('"ten euros"', '1000'));
      mkdirSync(SHOTS, { recursive: true });
      await page.locator('#dead-letters-view').screenshot({ path: `${SHOTS}/console-dead-letters.png` });
    }
  });

  it('refuses the workbench to a customer: the page does not open, the routes answer 403', async () => {
    const customer = await tokenFor({ role: 'customer', subject: randomUUID() });
    const other = await browser.newPage();
    await other.goto(`${controlRoom.url}/#token=${customer}`);
    await other.waitForSelector('#login:not([hidden])');
    expect(await other.locator('#login-error').textContent()).toContain('refused (403)');
    expect(await other.locator('#main').isHidden()).toBe(true);
    await other.close();
    const as = { authorization: `Bearer ${customer}`, 'x-control-room': '1' };
    const calls: [string, string, unknown?][] = [
      ['GET', '/api/dead-letter-groups'],
      ['GET', '/api/dead-letters/1'],
      ['GET', '/api/dead-letters/1/replay-plan'],
      ['POST', '/api/dead-letters/1/replay', {}],
      ['GET', '/api/dead-letter-replays'],
      ['POST', '/api/dead-letter-replays', { ids: ['1'], perSecond: 5 }],
      ['DELETE', '/api/dead-letter-replays/1'],
    ];
    for (const [method, path, body] of calls) {
      expect((await http(method, `${controlRoom.url}${path}`, body, as)).status, `${method} ${path}`).toBe(403);
    }
  });

  it('threw no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
