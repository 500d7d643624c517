import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { OrderCancelled, OrderConfirmed, OrderCreated } from '@am/contracts';
import type { MessageContext } from '@am/messaging';
import type { Recipient } from '../emails/email.js';
import { orderCancelledEmail, orderConfirmedEmail } from '../emails/email.templates.js';
import { queueMail } from '../mail-lanes/mail-job.js';
import { findRecipient } from '../recipients/recipient.store.js';
import { UnknownRecipientError } from './unknown-recipient.error.js';

/**
 * Order e-mails from `order-events`, queued for the priority lane in the record's transaction. The events are
 * self-contained but for the address: it comes from the local read model that `user.registered` feeds.
 */
@Controller()
export class SendOrderEmailHandler {
  /** No e-mail for a created order (the confirmation or cancellation follows within seconds). */
  @EventPattern<string>(OrderCreated.type)
  created(): void {
    // Handled, so that the library records it in the inbox and moves on instead of dead-lettering an event
    // type without a handler.
  }

  @EventPattern<string>(OrderConfirmed.type)
  async confirmed(@Payload() event: OrderConfirmed, @Ctx() ctx: MessageContext): Promise<void> {
    const recipient = await this.recipient(ctx, event.data.userId);
    queueMail(ctx, orderConfirmedEmail(event, recipient));
  }

  @EventPattern<string>(OrderCancelled.type)
  async cancelled(@Payload() event: OrderCancelled, @Ctx() ctx: MessageContext): Promise<void> {
    const recipient = await this.recipient(ctx, event.data.userId);
    queueMail(ctx, orderCancelledEmail(event, recipient));
  }

  private async recipient(ctx: MessageContext, userId: string): Promise<Recipient> {
    const recipient = await findRecipient(ctx.manager, userId);
    if (!recipient) throw new UnknownRecipientError(userId);
    return recipient;
  }
}
