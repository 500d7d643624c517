import type { OnModuleDestroy } from '@nestjs/common';
import { createTransport } from 'nodemailer';
import type { Email } from '../emails/email.js';
import type { SmtpConfig } from './smtp.config.js';

/** The one thing handlers need from an SMTP server; a test can hand in a fake. */
export interface MailTransport {
  /** Resolves once the server accepted the message (250 after DATA); rejects on any failure, temporary or not. */
  send(email: Email): Promise<void>;
}

/** Injection token of the {@link MailTransport} the handlers send with. */
export const MAIL_TRANSPORT = Symbol('MAIL_TRANSPORT');

/** Headers that tie an e-mail to the message that caused it, for whoever reads the raw mail. */
export const EmailHeaders = {
  eventId: 'X-Event-Id',
  eventType: 'X-Event-Type',
  correlationId: 'X-Correlation-Id',
  kind: 'X-Email-Kind',
  language: 'Content-Language',
} as const;

/**
 * Sends e-mail over SMTP with nodemailer. One connection per message (no pool): the service sends a few
 * e-mails per order, and a fresh connection never hands a send a socket that the server closed meanwhile.
 */
export class MailSender implements MailTransport, OnModuleDestroy {
  private readonly transport;

  constructor(private readonly config: SmtpConfig) {
    this.transport = createTransport({
      url: config.url,
      connectionTimeout: config.timeoutMs,
      greetingTimeout: config.timeoutMs,
      socketTimeout: config.timeoutMs,
    });
  }

  async send(email: Email): Promise<void> {
    await this.transport.sendMail({
      from: this.config.from,
      to: email.to,
      subject: email.subject,
      text: email.text,
      messageId: email.messageId,
      headers: {
        [EmailHeaders.eventId]: email.cause.messageId,
        [EmailHeaders.eventType]: email.cause.type,
        [EmailHeaders.correlationId]: email.cause.correlationId,
        [EmailHeaders.kind]: email.kind,
        ...(email.language ? { [EmailHeaders.language]: email.language } : {}),
      },
    });
  }

  onModuleDestroy(): void {
    this.transport.close();
  }
}
