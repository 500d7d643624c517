import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { OrderCancelled, OrderConfirmed, OrderCreated } from '@am/contracts';
import type { MessageContext } from '@am/messaging';
import type { Recipient } from '../emails/email.js';
import { orderCancelledEmail, orderConfirmedEmail } from '../emails/email.templates.js';
import { findRecipient } from '../recipients/recipient.store.js';
import { sendEmailOnce } from '../sent-emails/send-email-once.js';
import { MAIL_TRANSPORT, type MailTransport } from '../smtp/mail-sender.js';
import { UnknownRecipientError } from './unknown-recipient.error.js';

/**
 * Order e-mails from `order-events`. The events are self-contained but for the address: it comes from the
 * local read model that `user.registered` feeds.
 */
@Controller()
export class SendOrderEmailHandler {
  constructor(@Inject(MAIL_TRANSPORT) private readonly mail: MailTransport) {}

  /** No e-mail for a created order (the confirmation or cancellation follows within seconds). */
  @EventPattern<string>(OrderCreated.type)
  created(): void {
    // Handled, so that the library records it in the inbox and moves on instead of dead-lettering an event
    // type without a handler.
  }

  @EventPattern<string>(OrderConfirmed.type)
  async confirmed(@Payload() event: OrderConfirmed, @Ctx() ctx: MessageContext): Promise<void> {
    const recipient = await this.recipient(ctx, event.data.userId);
    await sendEmailOnce(ctx.manager, this.mail, orderConfirmedEmail(event, recipient));
  }

  @EventPattern<string>(OrderCancelled.type)
  async cancelled(@Payload() event: OrderCancelled, @Ctx() ctx: MessageContext): Promise<void> {
    const recipient = await this.recipient(ctx, event.data.userId);
    await sendEmailOnce(ctx.manager, this.mail, orderCancelledEmail(event, recipient));
  }

  private async recipient(ctx: MessageContext, userId: string): Promise<Recipient> {
    const recipient = await findRecipient(ctx.manager, userId);
    if (!recipient) throw new UnknownRecipientError(userId);
    return recipient;
  }
}
