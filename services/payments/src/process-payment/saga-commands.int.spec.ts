import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MessageCatalog,
  ProcessPayment,
  RefundPayment,
  UserRegistered,
  UserRegisteredV1,
  type Envelope,
  type PaymentReply,
} from '@am/contracts';
import { Exchanges, Queues, handleMessage, type EnvelopeHandler } from '@am/messaging';
import { createServiceDataSource, migrate } from '@am/persistence';
import { testEnv } from '@am/testing';
import { findBalance } from '../accounts/account-balance.projection.js';
import { runAccountCommand } from '../accounts/account-command.runner.js';
import { readStream } from '../accounts/account-event.store.js';
import { migrations } from '../migrations/index.js';
import { OpenAccountHandler } from '../open-account/open-account.handler.js';
import { RefundPaymentHandler } from '../refund-payment/refund-payment.handler.js';
import { ProcessPaymentHandler } from './process-payment.handler.js';

// The three handlers as the transport runs them (validation, inbox, transaction, outbox), against this run's
// payments database; the saga's replies are read back from the outbox.
let db: DataSource;

beforeAll(async () => {
  db = createServiceDataSource({ url: testEnv().databaseUrl('payments'), migrations });
  await db.initialize();
  await migrate(db);
});

afterAll(async () => {
  await db?.destroy();
});

const handlers: Record<string, EnvelopeHandler> = {
  [UserRegistered.type]: (m, ctx) => new OpenAccountHandler().handle(m as UserRegistered, ctx),
  [ProcessPayment.type]: (m, ctx) => new ProcessPaymentHandler().handle(m as ProcessPayment, ctx),
  [RefundPayment.type]: (m, ctx) => new RefundPaymentHandler().handle(m as RefundPayment, ctx),
};

function deliver(queue: string, message: Envelope): Promise<boolean> {
  return handleMessage(
    {
      dataSource: db,
      consumer: queue,
      catalog: new MessageCatalog([UserRegistered, ProcessPayment, RefundPayment]),
      findHandler: (type) => handlers[type],
    },
    Buffer.from(JSON.stringify(message)),
  );
}

async function registerUser(name = 'Ann'): Promise<string> {
  const userId = randomUUID();
  await deliver(
    Queues.paymentsAccounts,
    UserRegistered.create(
      { userId, email: `${userId}@example.com`, firstName: name, lastName: '', locale: 'en' },
      { correlationId: userId },
    ),
  );
  return userId;
}

const pay = (userId: string, orderId: string, amount: number) =>
  ProcessPayment.create({ sagaId: randomUUID(), orderId, userId, amount }, { correlationId: orderId });
const refund = (userId: string, orderId: string) =>
  RefundPayment.create({ sagaId: randomUUID(), orderId, userId }, { correlationId: orderId });

/** The saga replies of an order, oldest first, as they wait in the outbox. */
async function replies(orderId: string): Promise<PaymentReply[]> {
  const rows: { payload: PaymentReply }[] = await db.query(
    `SELECT payload FROM outbox WHERE destination = $1 AND payload->'data'->>'orderId' = $2 ORDER BY id`,
    [Exchanges.sagaReplies, orderId],
  );
  return rows.map((r) => r.payload);
}

async function deposit(userId: string, amount: number): Promise<void> {
  await db.transaction((m) =>
    runAccountCommand(
      m,
      { type: 'Deposit', data: { accountId: userId, amount } },
      { origin: { correlationId: 'test' } },
    ),
  );
}

const balance = async (userId: string) => (await findBalance(db.manager, userId))?.balance;

describe('payments-accounts (user.registered)', () => {
  it('opens one account per user, and a second user.registered for the user changes nothing', async () => {
    const userId = await registerUser('Ann');
    await deliver(
      Queues.paymentsAccounts,
      UserRegistered.create(
        { userId, email: 'ann@example.com', firstName: 'Ann', lastName: '', locale: 'en' },
        { correlationId: userId },
      ),
    );
    expect(await findBalance(db.manager, userId)).toEqual({
      id: userId,
      name: 'Ann',
      balance: 0,
      isOpen: true,
      version: 1,
    });
    expect(await readStream(db.manager, userId)).toHaveLength(1);
  });

  it('opens the account with the full name from a user.registered v1 (upcast) as from a v2', async () => {
    const userId = randomUUID();
    const v1 = UserRegisteredV1.create({ userId, email: 'cy@example.com', name: 'Cy Lee' }, { correlationId: userId });
    expect(await deliver(Queues.paymentsAccounts, v1)).toBe(true);
    expect(await findBalance(db.manager, userId)).toMatchObject({ id: userId, name: 'Cy Lee', isOpen: true });
  });
});

describe('payment.process', () => {
  it('withdraws the amount and replies payment.completed, once per order however often it is asked', async () => {
    const userId = await registerUser();
    await deposit(userId, 1000);
    const orderId = randomUUID();
    const command = pay(userId, orderId, 250);
    expect(await deliver(Queues.paymentProcess, command)).toBe(true);
    expect(await deliver(Queues.paymentProcess, command)).toBe(false); // the same message: the inbox stops it
    await deliver(Queues.paymentProcess, pay(userId, orderId, 250)); // the same order, another message

    expect(await balance(userId)).toBe(750);
    const answers = await replies(orderId);
    expect(answers.map((r) => [r.type, r.data])).toEqual([
      ['payment.completed', { sagaId: command.data.sagaId, orderId, amount: 250 }],
      ['payment.completed', expect.objectContaining({ orderId, amount: 250 })],
    ]);
    expect(answers[0]).toMatchObject({ correlationId: orderId, causationId: command.messageId });
    const [withdrawal] = (await readStream(db.manager, userId)).filter((s) => s.event.type === 'MoneyWithdrawn');
    expect(withdrawal?.event.data).toEqual({ accountId: userId, amount: 250, orderId });
  });

  it('replies payment.failed with the reason, and the same reason again for a repeat', async () => {
    const userId = await registerUser();
    await deposit(userId, 100);
    const poor = randomUUID();
    await deliver(Queues.paymentProcess, pay(userId, poor, 101));
    await deposit(userId, 1000); // too late: the order has its answer
    await deliver(Queues.paymentProcess, pay(userId, poor, 101));
    expect((await replies(poor)).map((r) => r.data)).toEqual([
      expect.objectContaining({ reason: 'insufficient_funds' }),
      expect.objectContaining({ reason: 'insufficient_funds' }),
    ]);
    expect(await balance(userId)).toBe(1100);

    const nobody = randomUUID();
    await deliver(Queues.paymentProcess, pay(randomUUID(), nobody, 5));
    expect((await replies(nobody)).map((r) => r.data)).toEqual([expect.objectContaining({ reason: 'no_account' })]);
  });
});

describe('payment.refund', () => {
  it('refunds a completed payment once, with a MoneyDeposited that quotes the order', async () => {
    const userId = await registerUser();
    await deposit(userId, 1000);
    const orderId = randomUUID();
    await deliver(Queues.paymentProcess, pay(userId, orderId, 400));
    await deliver(Queues.paymentRefund, refund(userId, orderId));
    await deliver(Queues.paymentRefund, refund(userId, orderId));
    expect(await balance(userId)).toBe(1000);
    const refunds = (await readStream(db.manager, userId)).filter((s) => s.version > 3);
    expect(refunds.map((s) => s.event)).toEqual([
      { type: 'MoneyDeposited', data: { accountId: userId, amount: 400, orderId } },
    ]);
    // A payment.process after the refund must not charge the cancelled order again.
    await deliver(Queues.paymentProcess, pay(userId, orderId, 400));
    expect((await replies(orderId)).at(-1)).toMatchObject({ type: 'payment.failed', data: { reason: 'voided' } });
    expect(await balance(userId)).toBe(1000);
  });

  it('voids an order that was never paid, so a late payment.process is refused', async () => {
    const userId = await registerUser();
    await deposit(userId, 1000);
    const orderId = randomUUID();
    await deliver(Queues.paymentRefund, refund(userId, orderId));
    await deliver(Queues.paymentProcess, pay(userId, orderId, 300));
    expect((await replies(orderId)).map((r) => [r.type, r.data])).toEqual([
      ['payment.failed', expect.objectContaining({ reason: 'voided' })],
    ]);
    expect(await balance(userId)).toBe(1000);
  });

  it('does nothing for a failed payment', async () => {
    const userId = await registerUser();
    const orderId = randomUUID();
    await deliver(Queues.paymentProcess, pay(userId, orderId, 300));
    await deliver(Queues.paymentRefund, refund(userId, orderId));
    const [row] = await db.query<{ status: string }[]>('SELECT status FROM payments WHERE order_id = $1', [orderId]);
    expect(row?.status).toBe('FAILED');
    expect(await readStream(db.manager, userId)).toHaveLength(1);
  });

  it('keeps one outcome per order when payment and refund race', async () => {
    const userId = await registerUser();
    await deposit(userId, 1000);
    const orderIds = Array.from({ length: 10 }, () => randomUUID());
    await Promise.all(
      orderIds.flatMap((orderId) => [
        deliver(Queues.paymentProcess, pay(userId, orderId, 10)),
        deliver(Queues.paymentRefund, refund(userId, orderId)),
      ]),
    );
    const rows = await db.query<{ status: string }[]>('SELECT status FROM payments WHERE order_id = ANY($1::uuid[])', [
      orderIds,
    ]);
    expect(rows).toHaveLength(10);
    for (const { status } of rows) expect(['REFUNDED', 'VOIDED']).toContain(status);
    expect(await balance(userId)).toBe(1000);
  });
});
