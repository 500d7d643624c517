import type { EntityManager } from 'typeorm';
import type { EnvelopeOrigin } from '@am/contracts';
import { runAccountCommand } from '../accounts/account-command.runner.js';
import { decideRefund } from '../payment-records/payment.decide.js';
import { insertPaymentRecord, lockPaymentRecord, markRefunded } from '../payment-records/payment-record.store.js';

/**
 * The refund, for both flows (the saga's `payment.refund`, the choreographed flow's `order.timed-out`), pattern:
 * compensation. Idempotent per order: a completed payment is refunded once (a `MoneyDeposited` that quotes the
 * order id), an order with no payment gets a VOIDED tombstone so a late payment is refused, anything else is left
 * alone.
 */
export async function refundPayment(
  manager: EntityManager,
  order: { orderId: string; userId: string },
  origin: EnvelopeOrigin,
): Promise<void> {
  const { orderId, userId } = order;
  const decision = decideRefund(await lockPaymentRecord(manager, orderId));
  if (decision.action === 'void') {
    await insertPaymentRecord(manager, { orderId, accountId: userId, status: 'VOIDED', amount: null });
  }
  if (decision.action !== 'refund') return;
  const { accountId, amount } = decision;
  const outcome = await runAccountCommand(
    manager,
    { type: 'Deposit', data: { accountId, amount, orderId } },
    { origin },
  );
  // Only a closed account refuses a refund. The retries will not help; after them the message rests in the
  // dead letter queue, where the audit service keeps it for a person to settle.
  if (!outcome.ok) throw new Error(`refund of order ${orderId} refused: ${outcome.error.message}`);
  await markRefunded(manager, orderId);
}
