import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Channel } from 'amqplib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessPayment, RefundPayment, type PaymentReply } from '@am/contracts';
import { AmqpClient, Exchanges, Queues, SAGA_REPLY_KEY } from '@am/messaging';
import { http, startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';

// orders and payments as real processes over this run's RabbitMQ vhost, Kafka topics and databases. The test
// plays the saga's part on RabbitMQ: it sends payment commands and listens on a queue of its own bound to the
// replies, beside the orchestrator's.
let services: Record<string, ServiceProcess>;
let amqp: AmqpClient;
let channel: Channel;
const received: PaymentReply[] = [];
const userIds: string[] = [];
const url = (service: string, path: string) => `${services[service]!.url}${path}`;

interface Account {
  id: string;
  name: string;
  balance: number;
  isOpen: boolean;
  version: number;
}
interface HistoryEntry {
  version: number;
  type: string;
  data: Record<string, unknown>;
  occurredAt: string;
  balanceAfter: number;
}

beforeAll(async () => {
  services = await startServices(['orders', 'payments']);
  amqp = new AmqpClient({ url: testEnv().adminAmqpUrl, connectionName: 'payments.e2e.spec' });
  await amqp.connect();
  channel = await amqp.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, Exchanges.sagaReplies, SAGA_REPLY_KEY);
  await channel.consume(queue, (m) => m && received.push(JSON.parse(m.content.toString()) as PaymentReply), {
    noAck: true,
  });
});

afterAll(async () => {
  await channel?.close().catch(() => undefined);
  await amqp?.close();
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

async function registerUser(name: string): Promise<string> {
  const user = await http<{ userId: string }>('POST', url('orders', '/users'), {
    email: `${randomUUID()}@example.com`,
    name,
  });
  expect(user.status).toBe(201);
  const { userId } = user.body;
  userIds.push(userId);
  // orders → outbox → user-events fanout → payments-accounts → AccountOpened.
  await waitFor(
    'payments to open the account',
    async () => (await http('GET', url('payments', `/accounts/${userId}`))).status === 200,
  );
  return userId;
}

const deposit = (userId: string, body: unknown) =>
  http<{ balance: number; message?: string[] }>('POST', url('payments', `/accounts/${userId}/deposits`), body);

async function sendSagaCommand(message: ProcessPayment | RefundPayment, queue: string): Promise<void> {
  await amqp.publish(Exchanges.sagaCommands, queue, message);
}

const replyFor = (orderId: string, count = 1) =>
  waitFor(`${count} payment replies for order ${orderId}`, () => {
    const replies = received.filter((r) => r.data.orderId === orderId);
    return replies.length >= count ? replies : undefined;
  });

describe('payments: event-sourced accounts', () => {
  it('opens an account for a user registered at orders, and takes deposits', async () => {
    const userId = await registerUser('Ann');
    expect((await http<Account>('GET', url('payments', `/accounts/${userId}`))).body).toEqual({
      id: userId,
      name: 'Ann',
      balance: 0,
      isOpen: true,
      version: 1,
    });
    const first = await deposit(userId, { amount: 1000 });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ balance: 1000 });
    expect((await deposit(userId, { amount: 1000 })).body).toEqual({ balance: 2000 });

    const account = await http<Account>('GET', url('payments', `/accounts/${userId}`));
    expect(account.body).toMatchObject({ balance: 2000, version: 3 });
    const events = await http<HistoryEntry[]>('GET', url('payments', `/accounts/${userId}/events`));
    expect(events.body.map((e) => [e.version, e.type, e.balanceAfter])).toEqual([
      [1, 'AccountOpened', 0],
      [2, 'MoneyDeposited', 1000],
      [3, 'MoneyDeposited', 2000],
    ]);
    expect(events.body[0]!.data).toEqual({ accountId: userId, name: 'Ann' });
    expect(Date.parse(events.body[2]!.occurredAt)).not.toBeNaN();
  });

  it('pays and refunds for the saga over RabbitMQ, and tells how the balance became 750', async () => {
    const userId = await registerUser('Alice');
    await deposit(userId, { amount: 1000 });
    const [first, second, tooMuch] = [randomUUID(), randomUUID(), randomUUID()];
    const pay = (orderId: string, amount: number) =>
      ProcessPayment.create({ sagaId: randomUUID(), orderId, userId, amount }, { correlationId: orderId });

    await sendSagaCommand(pay(first, 200), Queues.paymentProcess);
    expect((await replyFor(first))[0]).toMatchObject({ type: 'payment.completed', data: { amount: 200 } });
    await sendSagaCommand(pay(second, 50), Queues.paymentProcess);
    await sendSagaCommand(pay(tooMuch, 5000), Queues.paymentProcess);
    expect((await replyFor(second))[0]).toMatchObject({ type: 'payment.completed' });
    expect((await replyFor(tooMuch))[0]).toMatchObject({
      type: 'payment.failed',
      data: { reason: 'insufficient_funds' },
    });

    // The article's question, answered from the stream: 0 + 1000 - 200 - 50 = 750.
    const history = await http<HistoryEntry[]>('GET', url('payments', `/accounts/${userId}/events`));
    expect(history.body.map((e) => [e.type, e.data.amount ?? null, e.balanceAfter])).toEqual([
      ['AccountOpened', null, 0],
      ['MoneyDeposited', 1000, 1000],
      ['MoneyWithdrawn', 200, 800],
      ['MoneyWithdrawn', 50, 750],
    ]);
    expect((await http<Account>('GET', url('payments', `/accounts/${userId}`))).body.balance).toBe(750);
    // Every event also left through the outbox for the Kafka topic account-events, keyed by the account id.
    await waitFor('the account events to be published to account-events', async () => {
      const db = new pg.Client({ connectionString: testEnv().databaseUrl('payments') });
      await db.connect();
      try {
        const { rows } = await db.query<{ sent: number; unsent: number }>(
          `SELECT count(*) FILTER (WHERE sent_at IS NOT NULL)::int AS sent,
                  count(*) FILTER (WHERE sent_at IS NULL)::int AS unsent
             FROM outbox WHERE destination = 'account-events' AND routing_key = $1`,
          [userId],
        );
        return rows[0]?.sent === 4 && rows[0].unsent === 0;
      } finally {
        await db.end();
      }
    });

    // The compensation: the 200 comes back once, however often the refund is sent.
    const refund = RefundPayment.create({ sagaId: randomUUID(), orderId: first, userId }, { correlationId: first });
    await sendSagaCommand(refund, Queues.paymentRefund);
    await sendSagaCommand({ ...refund, messageId: randomUUID() }, Queues.paymentRefund);
    const refunded = await waitFor('the refund to reach the read model', async () => {
      const account = (await http<Account>('GET', url('payments', `/accounts/${userId}`))).body;
      return account.balance === 950 ? account : undefined;
    });
    expect(refunded.version).toBe(5);
    await sendSagaCommand(pay(first, 200), Queues.paymentProcess);
    expect((await replyFor(first, 2))[1]).toMatchObject({ type: 'payment.failed', data: { reason: 'voided' } });
    expect((await http<Account>('GET', url('payments', `/accounts/${userId}`))).body).toMatchObject({
      balance: 950,
      version: 5,
    });
  });

  it('answers bad input with 400 or 404 and changes nothing', async () => {
    const userId = await registerUser('Bob');
    for (const body of [
      { amount: -5 },
      { amount: 0 },
      { amount: 1.5 },
      { amount: '10' },
      {},
      { amount: 10, note: 'x' },
    ]) {
      const answer = await deposit(userId, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
    }
    const unknownField = await deposit(userId, { amount: 10, note: 'x' });
    expect(unknownField.body.message).toEqual([expect.stringContaining('"note"')]);
    const notJson = await http('POST', url('payments', `/accounts/${userId}/deposits`), '{"amount":', {
      'content-type': 'application/json',
    });
    expect(notJson.status).toBe(400);
    expect((await deposit(randomUUID(), { amount: 10 })).status).toBe(404);
    expect((await http('GET', url('payments', `/accounts/${randomUUID()}`))).status).toBe(404);
    expect((await http('GET', url('payments', `/accounts/${randomUUID()}/events`))).status).toBe(404);
    expect((await http('GET', url('payments', `/accounts/${'x'.repeat(65)}`))).status).toBe(400);
    expect((await http<Account>('GET', url('payments', `/accounts/${userId}`))).body).toMatchObject({
      balance: 0,
      version: 1,
    });
  });

  it('rebuilds the read model from the events with the CLI, while the service runs, to the same balances', async () => {
    const accounts = async () =>
      Promise.all(userIds.map(async (id) => (await http<Account>('GET', url('payments', `/accounts/${id}`))).body));
    const before = await accounts();
    expect(before.length).toBeGreaterThanOrEqual(3);
    const cli = fileURLToPath(new URL('../dist/rebuild-balances.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [cli], {
      env: { ...process.env, DATABASE_URL: testEnv().databaseUrl('payments') },
    });
    expect(stdout).toMatch(/^replayed \d+ events, \d+ accounts written$/m);
    expect(stdout).toMatch(/^rebuilt account_balances: \d+ accounts from \d+ events in \d+ ms$/m);
    expect(await accounts()).toEqual(before);
  });
});
