import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RefundPayment, causedBy } from '@am/contracts';
import type { MessageContext } from '@am/messaging';
import { refundPayment } from './refund-payment.js';

/**
 * `payment.refund`, the saga's compensation of `payment.process` (`refundPayment`, the same code the choreographed
 * flow runs on `order.timed-out`).
 */
@Controller()
export class RefundPaymentHandler {
  @EventPattern<string>(RefundPayment.type)
  async handle(@Payload() command: RefundPayment, @Ctx() ctx: MessageContext): Promise<void> {
    await refundPayment(ctx.manager, command.data, causedBy(command));
  }
}
