import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { PaymentCompleted, PaymentFailed, ProcessPayment, causedBy } from '@am/contracts';
import { Exchanges, SAGA_REPLY_KEY, toExchange, type MessageContext } from '@am/messaging';
import { runAccountCommand } from '../accounts/account-command.runner.js';
import { decideProcess, failureReason, type PaymentOutcome } from '../payment-records/payment.decide.js';
import { insertPaymentRecord, lockPaymentRecord } from '../payment-records/payment-record.store.js';

/**
 * `payment.process`: withdraws the order total from the user's account and replies to the saga. The order's
 * `payments` row makes it idempotent per order (a repeated command repeats the answer, never the withdrawal);
 * the inbox already makes it idempotent per message. Reply and events leave through the outbox.
 */
@Controller()
export class ProcessPaymentHandler {
  @EventPattern<string>(ProcessPayment.type)
  async handle(@Payload() command: ProcessPayment, @Ctx() ctx: MessageContext): Promise<void> {
    const { sagaId, orderId } = command.data;
    const decision = decideProcess(await lockPaymentRecord(ctx.manager, orderId));
    const reply = decision.action === 'reply' ? decision.reply : await this.withdraw(command, ctx);
    const data = { sagaId, orderId };
    ctx.send(
      toExchange(Exchanges.sagaReplies, SAGA_REPLY_KEY),
      reply.outcome === 'completed'
        ? PaymentCompleted.create({ ...data, amount: reply.amount }, causedBy(command))
        : PaymentFailed.create({ ...data, reason: reply.reason }, causedBy(command)),
    );
  }

  private async withdraw(command: ProcessPayment, ctx: MessageContext): Promise<PaymentOutcome> {
    const { orderId, userId, amount } = command.data;
    const outcome = await runAccountCommand(
      ctx.manager,
      { type: 'Withdraw', data: { accountId: userId, amount, orderId } },
      { origin: causedBy(command) },
    );
    const base = { orderId, accountId: userId, amount };
    if (outcome.ok) {
      await insertPaymentRecord(ctx.manager, { ...base, status: 'COMPLETED' });
      return { outcome: 'completed', amount };
    }
    const reason = failureReason(outcome.error.code);
    await insertPaymentRecord(ctx.manager, { ...base, status: 'FAILED', reason });
    return { outcome: 'failed', reason };
  }
}
