import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { UserRegistered } from '@am/contracts';
import type { MessageContext } from '@am/messaging';
import { fullName, welcomeEmail } from '../emails/email.templates.js';
import { saveRecipient } from '../recipients/recipient.store.js';
import { sendEmailOnce } from '../sent-emails/send-email-once.js';
import { MAIL_TRANSPORT, type MailTransport } from '../smtp/mail-sender.js';

/**
 * `user.registered` from `email-notifications`: remembers where the user's e-mail goes (for the order e-mails
 * that follow) and sends the welcome e-mail, both in the message's transaction. A v1 message (replayed, or
 * still queued from before the upgrade) arrives here upcast to v2 by the catalog: one code path for both.
 */
@Controller()
export class SendWelcomeEmailHandler {
  constructor(@Inject(MAIL_TRANSPORT) private readonly mail: MailTransport) {}

  @EventPattern<string>(UserRegistered.type)
  async handle(@Payload() event: UserRegistered, @Ctx() ctx: MessageContext): Promise<void> {
    const { userId, email } = event.data;
    await saveRecipient(ctx.manager, { userId, email, name: fullName(event.data) }, event.occurredAt);
    await sendEmailOnce(ctx.manager, this.mail, welcomeEmail(event));
  }
}
