import { randomUUID } from 'node:crypto';
import type { Channel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserRegistered } from '@am/contracts';
import { AmqpClient, Exchanges, Queues, Topics, deadLetterQueue } from '@am/messaging';
import { http, startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';
import type { SentEmail } from './sent-emails/sent-email.store.js';
import { SmtpSinkProcess } from './smtp-sink/smtp-sink.process.js';
import type { SinkMessage } from './smtp-sink/smtp-sink.server.js';

// The email service beside orders, inventory and payments as real processes over this run's brokers and
// databases, sending real SMTP to an smtp-sink child process. RETRY_DELAYS_MS is 100,200,400 (startServices).
let services: Record<string, ServiceProcess>;
let sink: SmtpSinkProcess;
let admin: AmqpClient;
let channel: Channel;
const url = (service: string, path: string) => `${services[service]!.url}${path}`;

beforeAll(async () => {
  sink = await SmtpSinkProcess.start();
  services = await startServices(['orders', 'inventory', 'payments', 'email'], { email: { SMTP_URL: sink.smtpUrl } });
  admin = new AmqpClient({ url: testEnv().adminAmqpUrl, connectionName: 'email.e2e.spec' });
  await admin.connect();
  channel = await admin.createChannel();
});

afterAll(async () => {
  await channel?.close().catch(() => undefined);
  await admin?.close();
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
  await sink?.stop();
});

async function register(name = 'Ann'): Promise<{ userId: string; email: string }> {
  const email = `${randomUUID()}@example.com`;
  const user = await http<{ userId: string }>('POST', url('orders', '/users'), { email, name });
  expect(user.status).toBe(201);
  return { userId: user.body.userId, email };
}

/** Waits until the sink holds `count` messages for `address`, and returns them. */
/**
 * Waits for `count` e-mails to arrive at the sink and for the email service to have committed them to its log:
 * the SMTP server accepts a mail a moment before the transaction that records it commits.
 */
async function mailbox(address: string, count = 1, timeoutMs = 20_000): Promise<SinkMessage[]> {
  const messages = await waitFor(
    `${count} e-mail(s) to ${address}`,
    async () => {
      const got = await sink.messages(address);
      return got.length >= count ? got : undefined;
    },
    { timeoutMs, intervalMs: 100 },
  );
  await waitFor(`the sent log of ${address} to hold ${count}`, async () => (await sentLog(address)).length >= count, {
    timeoutMs,
    intervalMs: 100,
  });
  return messages;
}

async function sentLog(address: string): Promise<SentEmail[]> {
  const answer = await http<SentEmail[]>('GET', url('email', `/emails?to=${encodeURIComponent(address)}`));
  expect(answer.status).toBe(200);
  return answer.body;
}

/** One Prometheus sample of the email service (0 when absent). */
async function metric(name: string, source: string): Promise<number> {
  const text = await (await fetch(url('email', '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{source="${source}",service="email"} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

/** Places an order for `quantity` of a SKU with `stock` items, and waits for it to settle. */
async function order(userId: string, stock: number, quantity: number): Promise<{ orderId: string; status: string }> {
  const sku = `SKU-${randomUUID().slice(0, 8)}`;
  expect((await http('PUT', url('inventory', `/stock/${sku}`), { quantity: stock })).status).toBe(200);
  const placed = await http<{ orderId: string }>('POST', url('orders', '/orders'), {
    userId,
    items: [{ sku, quantity, unitPrice: 1_250 }],
  });
  expect(placed.status).toBe(202);
  return waitFor(
    'the order to settle',
    async () => {
      const got = await http<{ orderId: string; status: string }>(
        'GET',
        url('orders', `/orders/${placed.body.orderId}`),
      );
      return got.status === 200 && got.body.status !== 'PENDING' ? got.body : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 150 },
  );
}

describe('email notifications', () => {
  it('sends the welcome e-mail for a registered user and lists it at GET /emails', async () => {
    const { userId, email } = await register('Ann');
    const [mail] = await mailbox(email);
    expect(mail).toMatchObject({
      subject: 'Welcome to Async Shop, Ann!',
      messageId: `<welcome.${userId}@email.async-messaging.local>`,
      envelope: { to: [email] },
    });
    expect(mail!.text).toMatch(/^Hello Ann,/);
    const log = await sentLog(email.toUpperCase());
    expect(log).toEqual([
      {
        to: email,
        subject: 'Welcome to Async Shop, Ann!',
        kind: 'welcome',
        eventId: mail!.headers['x-event-id'],
        eventType: 'user.registered',
        messageId: mail!.messageId,
        sentAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
      },
    ]);
  });

  it('answers GET /emails without a valid `to` with 400, and an unknown address with an empty list', async () => {
    for (const query of ['', '?to=', '?to=not-an-address', '?to=a@example.com&from=b@example.com']) {
      const answer = await http<{ message: string[] }>('GET', url('email', `/emails${query}`));
      expect(answer.status, query).toBe(400);
    }
    expect(await sentLog(`${randomUUID()}@example.com`)).toEqual([]);
  });

  it('confirms a confirmed order by e-mail, to the address from its own read model', async () => {
    const { userId, email } = await register('Bea');
    await mailbox(email);
    await waitFor('payments to open the account', async () => {
      return (await http('GET', url('payments', `/accounts/${userId}`))).status === 200;
    });
    const deposit = await http('POST', url('payments', `/accounts/${userId}/deposits`), { amount: 10_000 });
    expect(deposit.status).toBeLessThan(300);
    const placed = await order(userId, 5, 2);
    expect(placed.status).toBe('CONFIRMED');
    const [, confirmation] = await mailbox(email, 2);
    expect(confirmation).toMatchObject({
      subject: `Your order ${placed.orderId.slice(0, 8)} is confirmed`,
      messageId: `<order-confirmed.${placed.orderId}@email.async-messaging.local>`,
    });
    expect(confirmation!.text).toContain('Total: 25.00');
    expect((await sentLog(email)).map((e) => e.kind)).toEqual(['welcome', 'order-confirmed']);
    // order.created got no e-mail, and was not dead-lettered for want of one either.
    expect(await metric('messages_consumed_total', Topics.orderEvents)).toBeGreaterThanOrEqual(2);
    expect(await metric('messages_dead_lettered_total', Topics.orderEvents)).toBe(0);
  });

  it('tells the customer of a cancelled order, with the reason', async () => {
    const { userId, email } = await register('Cy');
    await mailbox(email);
    const placed = await order(userId, 1, 3);
    expect(placed.status).toBe('CANCELLED');
    const [, cancellation] = await mailbox(email, 2);
    expect(cancellation!.subject).toBe(`Your order ${placed.orderId.slice(0, 8)} was cancelled`);
    expect(cancellation!.text).toContain('because some of the items are out of stock');
    expect((await sentLog(email)).map((e) => e.kind)).toEqual(['welcome', 'order-cancelled']);
  });

  it('sends one welcome e-mail for a redelivered user.registered, and for a second event about the same user', async () => {
    const userId = randomUUID();
    const email = `${userId}@example.com`;
    const event = UserRegistered.create(
      { userId, email, firstName: 'Dan', lastName: '', locale: 'en' },
      { correlationId: userId },
    );
    const consumedBefore = await metric('messages_consumed_total', Queues.emailNotifications);
    const sentBefore = await metric('messages_consumed_total', Queues.mailBulk);
    await admin.publish(Exchanges.userEvents, '', event);
    await mailbox(email);
    // The same envelope again (a redelivery: the inbox catches it), and the same fact under a new message id
    // (a duplicate the inbox cannot see: the sent_emails key catches it).
    await admin.publish(Exchanges.userEvents, '', event);
    await admin.publish(Exchanges.userEvents, '', UserRegistered.create(event.data, { correlationId: userId }));
    await waitFor(
      'the email service to handle all three deliveries, and the sender the two welcome jobs they made',
      async () =>
        (await metric('messages_consumed_total', Queues.emailNotifications)) >= consumedBefore + 3 &&
        (await metric('messages_consumed_total', Queues.mailBulk)) >= sentBefore + 2,
    );
    expect(await sink.messages(email)).toHaveLength(1);
    expect(await sentLog(email)).toHaveLength(1);
  });

  it('retries a failing SMTP server from the bulk lane until the welcome e-mail is delivered', async () => {
    const before = await sink.stats();
    const retriedBefore = await metric('messages_retried_total', Queues.mailBulk);
    await sink.failNext(2);
    const { email } = await register('Eve');
    await mailbox(email);
    expect((await sink.stats()).failed - before.failed).toBe(2);
    expect(await metric('messages_retried_total', Queues.mailBulk)).toBe(retriedBefore + 2);
    expect(await sink.messages(email)).toHaveLength(1);
    expect(await sentLog(email)).toHaveLength(1);
  });

  it('retries a failing SMTP server from the priority lane until the order e-mail is delivered', async () => {
    const { userId, email } = await register('Fay');
    await mailbox(email);
    const before = await sink.stats();
    const retriedBefore = await metric('messages_retried_total', Queues.mailPriority);
    await sink.failNext(2);
    const placed = await order(userId, 0, 1);
    expect(placed.status).toBe('CANCELLED');
    const mails = await mailbox(email, 2);
    expect((await sink.stats()).failed - before.failed).toBe(2);
    expect(await metric('messages_retried_total', Queues.mailPriority)).toBe(retriedBefore + 2);
    expect(mails).toHaveLength(2);
    expect((await sentLog(email)).map((e) => e.kind)).toEqual(['welcome', 'order-cancelled']);
  });

  it('dead-letters a welcome e-mail that keeps failing after its retries, and records no e-mail', async () => {
    const dlq = deadLetterQueue(Queues.mailBulk);
    const waiting = (await channel.checkQueue(dlq)).messageCount;
    await sink.failNext(4); // the first delivery and three retries
    const userId = randomUUID();
    const email = `${userId}@example.com`;
    await admin.publish(
      Exchanges.userEvents,
      '',
      UserRegistered.create({ userId, email, firstName: 'Gus', lastName: '', locale: 'en' }, { correlationId: userId }),
    );
    await waitFor('the job in mail-bulk-dlq', async () => {
      return (await channel.checkQueue(dlq)).messageCount === waiting + 1;
    });
    expect((await sink.stats()).failNext).toBe(0);
    expect(await sink.messages(email)).toEqual([]);
    expect(await sentLog(email)).toEqual([]);
  });
});
