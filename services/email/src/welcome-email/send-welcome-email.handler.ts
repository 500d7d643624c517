import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { UserRegistered } from '@am/contracts';
import type { MessageContext } from '@am/messaging';
import { fullName, welcomeEmail } from '../emails/email.templates.js';
import { queueMail } from '../mail-lanes/mail-job.js';
import { saveRecipient } from '../recipients/recipient.store.js';

/**
 * `user.registered` from `email-notifications`: remembers where the user's e-mail goes (for the order e-mails
 * that follow) and queues the welcome e-mail for the bulk lane, both in the message's transaction. A v1 message
 * (replayed, or still queued from before the upgrade) arrives here upcast to v2 by the catalog: one code path.
 */
@Controller()
export class SendWelcomeEmailHandler {
  @EventPattern<string>(UserRegistered.type)
  async handle(@Payload() event: UserRegistered, @Ctx() ctx: MessageContext): Promise<void> {
    const { userId, email } = event.data;
    await saveRecipient(ctx.manager, { userId, email, name: fullName(event.data) }, event.occurredAt);
    queueMail(ctx, welcomeEmail(event));
  }
}
