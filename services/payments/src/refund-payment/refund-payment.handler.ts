import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RefundPayment, causedBy } from '@am/contracts';
import type { MessageContext } from '@am/messaging';
import { runAccountCommand } from '../accounts/account-command.runner.js';
import { decideRefund } from '../payment-records/payment.decide.js';
import { insertPaymentRecord, lockPaymentRecord, markRefunded } from '../payment-records/payment-record.store.js';

/**
 * `payment.refund`, the compensation of `payment.process` (pattern: saga compensation). Idempotent per order:
 * a completed payment is refunded once (a `MoneyDeposited` that quotes the order id), an order with no payment
 * gets a VOIDED tombstone so a late `payment.process` is refused, anything else is left alone.
 */
@Controller()
export class RefundPaymentHandler {
  @EventPattern<string>(RefundPayment.type)
  async handle(@Payload() command: RefundPayment, @Ctx() ctx: MessageContext): Promise<void> {
    const { orderId, userId } = command.data;
    const decision = decideRefund(await lockPaymentRecord(ctx.manager, orderId));
    if (decision.action === 'void') {
      await insertPaymentRecord(ctx.manager, { orderId, accountId: userId, status: 'VOIDED', amount: null });
    }
    if (decision.action !== 'refund') return;
    const { accountId, amount } = decision;
    const outcome = await runAccountCommand(
      ctx.manager,
      { type: 'Deposit', data: { accountId, amount, orderId } },
      { origin: causedBy(command) },
    );
    // Only a closed account refuses a refund. The retries will not help; after them the message rests in the
    // dead letter queue, where the audit service keeps it for a person to settle.
    if (!outcome.ok) throw new Error(`refund of order ${orderId} refused: ${outcome.error.message}`);
    await markRefunded(ctx.manager, orderId);
  }
}
