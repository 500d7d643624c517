import type { EntityManager } from 'typeorm';
import { PaymentCompleted, PaymentFailed, type EnvelopeOrigin } from '@am/contracts';
import { runAccountCommand } from '../accounts/account-command.runner.js';
import { decideProcess, failureReason, type PaymentOutcome } from '../payment-records/payment.decide.js';
import { insertPaymentRecord, lockPaymentRecord } from '../payment-records/payment-record.store.js';

/** What a payment is about; `sagaId` is the order id on the choreographed flow. */
export interface PaymentRequest {
  sagaId: string;
  orderId: string;
  userId: string;
  amount: number;
}

/**
 * The payment, for both flows (the saga's `payment.process`, the choreographed flow's `inventory.reserved`):
 * withdraws the order total from the user's account, once per order (its `payments` row: a repeat repeats the
 * answer, never the withdrawal), and returns the outcome as `payment.completed` or `payment.failed`.
 */
export async function processPayment(
  manager: EntityManager,
  request: PaymentRequest,
  origin: EnvelopeOrigin,
): Promise<PaymentCompleted | PaymentFailed> {
  const { sagaId, orderId } = request;
  const outcome = await payOnce(manager, request, origin);
  return outcome.outcome === 'completed'
    ? PaymentCompleted.create({ sagaId, orderId, amount: outcome.amount }, origin)
    : PaymentFailed.create({ sagaId, orderId, reason: outcome.reason }, origin);
}

/**
 * The payment's outcome, inside the caller's transaction (the synchronous baseline's `POST /payments` too): lock the
 * order's record, decide, and withdraw only when nothing was decided before.
 */
export async function payOnce(
  manager: EntityManager,
  request: Omit<PaymentRequest, 'sagaId'>,
  origin: EnvelopeOrigin,
): Promise<PaymentOutcome> {
  const decision = decideProcess(await lockPaymentRecord(manager, request.orderId));
  return decision.action === 'reply' ? decision.reply : withdraw(manager, request, origin);
}

async function withdraw(
  manager: EntityManager,
  request: Omit<PaymentRequest, 'sagaId'>,
  origin: EnvelopeOrigin,
): Promise<PaymentOutcome> {
  const { orderId, userId, amount } = request;
  const outcome = await runAccountCommand(
    manager,
    { type: 'Withdraw', data: { accountId: userId, amount, orderId } },
    { origin },
  );
  const base = { orderId, accountId: userId, amount };
  if (outcome.ok) {
    await insertPaymentRecord(manager, { ...base, status: 'COMPLETED' });
    return { outcome: 'completed', amount };
  }
  const reason = failureReason(outcome.error.code);
  await insertPaymentRecord(manager, { ...base, status: 'FAILED', reason });
  return { outcome: 'failed', reason };
}
