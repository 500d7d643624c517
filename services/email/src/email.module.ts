import { Module } from '@nestjs/common';
import { ListEmailsController } from './list-emails/list-emails.controller.js';
import { SendMailHandler } from './mail-lanes/send-mail.handler.js';
import { SendOrderEmailHandler } from './order-emails/send-order-email.handler.js';
import { MAIL_TRANSPORT, MailSender } from './smtp/mail-sender.js';
import { readSmtpConfig } from './smtp/smtp.config.js';
import { SendWelcomeEmailHandler } from './welcome-email/send-welcome-email.handler.js';

/**
 * The email use cases: the welcome e-mail and the order e-mails (each queues a `mail.send` job), the SMTP sender
 * of the two mail lanes, and the sent-mail log. SMTP_URL says where mail goes.
 */
@Module({
  controllers: [SendWelcomeEmailHandler, SendOrderEmailHandler, SendMailHandler, ListEmailsController],
  providers: [{ provide: MAIL_TRANSPORT, useFactory: () => new MailSender(readSmtpConfig(process.env)) }],
})
export class EmailModule {}
