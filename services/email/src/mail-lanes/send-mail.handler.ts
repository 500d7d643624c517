import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { SendMail } from '@am/contracts';
import type { MessageContext } from '@am/messaging';
import { sendEmailOnce } from '../sent-emails/send-email-once.js';
import { MAIL_TRANSPORT, type MailTransport } from '../smtp/mail-sender.js';

/**
 * The SMTP sender: `mail.send` from either lane. The only code of the service that talks to SMTP; at most one
 * e-mail per dedupe key, whichever lane, job or redelivery brings it (`sendEmailOnce`).
 */
@Controller()
export class SendMailHandler {
  constructor(@Inject(MAIL_TRANSPORT) private readonly mail: MailTransport) {}

  @EventPattern<string>(SendMail.type)
  async handle(@Payload() job: SendMail, @Ctx() ctx: MessageContext): Promise<void> {
    await sendEmailOnce(ctx.manager, this.mail, job.data);
  }
}
