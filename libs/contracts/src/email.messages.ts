import { z } from 'zod';
import { defineMessage, type MessageOf } from './message.js';

// Messages produced by the email service, for itself: the consumers of `user-events` and `order-events` decide
// which e-mail a fact calls for, and hand the finished e-mail to the `mail` headers exchange as a job; the SMTP
// sender takes the jobs from its lanes (`mail-priority`, `mail-bulk`).

/** The e-mails the service sends. */
export const MailKind = z.enum(['welcome', 'order-confirmed', 'order-cancelled']);
export type MailKind = z.infer<typeof MailKind>;

/**
 * Command on the `mail` headers exchange, with the headers `kind` and `priority` it is routed by: one e-mail,
 * written out, ready for SMTP. At most one e-mail goes out per `dedupeKey`, however often the job arrives.
 */
export const SendMail = defineMessage(
  'mail.send',
  1,
  z.object({
    kind: MailKind,
    /** The fact the e-mail announces (`welcome:<userId>`, `order-confirmed:<orderId>`): one e-mail per key, ever. */
    dedupeKey: z.string().min(1).max(200),
    to: z.object({ address: z.email(), name: z.string().max(200) }),
    subject: z.string().min(1).max(300),
    text: z.string().max(20_000),
    /** The `Message-ID` header, derived from `dedupeKey`: a resend carries the same one. */
    messageId: z.string().min(3).max(300),
    /** The message that caused the e-mail: its id, type and correlation id. */
    cause: z.object({ messageId: z.uuid(), type: z.string().min(1), correlationId: z.string().min(1) }),
    /** The language the reader asked for (`Content-Language`), when the cause said it. */
    language: z.string().max(35).optional(),
  }),
);
export type SendMail = MessageOf<typeof SendMail>;

export const mailCommands = [SendMail] as const;
