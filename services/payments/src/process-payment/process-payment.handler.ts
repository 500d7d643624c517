import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ProcessPayment, causedBy } from '@am/contracts';
import { Exchanges, SAGA_REPLY_KEY, toExchange, type MessageContext } from '@am/messaging';
import { processPayment } from './process-payment.js';

/**
 * `payment.process`: pays for the order (`processPayment`, the same code the choreographed flow runs) and replies
 * to the saga. The inbox makes it idempotent per message, the order's `payments` row per order. Reply and events
 * leave through the outbox.
 */
@Controller()
export class ProcessPaymentHandler {
  @EventPattern<string>(ProcessPayment.type)
  async handle(@Payload() command: ProcessPayment, @Ctx() ctx: MessageContext): Promise<void> {
    const reply = await processPayment(ctx.manager, command.data, causedBy(command));
    ctx.send(toExchange(Exchanges.sagaReplies, SAGA_REPLY_KEY), reply);
  }
}
