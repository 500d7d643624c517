import { describe, expect, it } from 'vitest';
import { MailKind, SendMail, UserRegistered } from '@am/contracts';
import { welcomeEmail } from '../emails/email.templates.js';
import { mailHeaders, mailJob, mailPriority } from './mail-job.js';

describe('the mail job', () => {
  it('puts order e-mails in the priority lane and welcome e-mails in the bulk lane', () => {
    expect(Object.fromEntries(MailKind.options.map((kind) => [kind, mailPriority(kind)]))).toEqual({
      welcome: 'bulk',
      'order-confirmed': 'high',
      'order-cancelled': 'high',
    });
    expect(mailHeaders('order-cancelled')).toEqual({ kind: 'order-cancelled', priority: 'high' });
  });

  it('carries the whole e-mail, caused by the event and in its correlation', () => {
    const event = UserRegistered.create(
      { userId: 'u-1', email: 'ann@example.com', firstName: 'Ann', lastName: 'Lee', locale: 'de-CH' },
      { correlationId: 'c-1' },
    );
    const email = welcomeEmail(event);
    const job = mailJob(email);
    expect(job).toMatchObject({ type: SendMail.type, version: 1, correlationId: 'c-1', causationId: event.messageId });
    expect(job.data).toEqual(email);
    expect(SendMail.envelopeSchema().safeParse(JSON.parse(JSON.stringify(job))).success).toBe(true);
  });
});
