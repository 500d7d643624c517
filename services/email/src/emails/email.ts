import type { MailKind } from '@am/contracts';

/** The e-mails this service sends (the contract's `MailKind`); the `kind` column of `sent_emails` accepts these. */
export type EmailKind = MailKind;

/** The message an e-mail answers: the id, type and correlation id it is traced back by. */
export interface EmailCause {
  messageId: string;
  type: string;
  correlationId: string;
}

/** An e-mail ready to go: what to send, and the facts that make it unique and traceable. */
export interface Email {
  kind: EmailKind;
  /**
   * At most one e-mail per key, ever: the fact the e-mail announces (`welcome:<userId>`,
   * `order-confirmed:<orderId>`), so a duplicate delivery and a duplicate event (another message id for the same
   * fact, which the inbox cannot recognise) both find the key taken.
   */
  dedupeKey: string;
  to: { address: string; name: string };
  subject: string;
  text: string;
  /** The `Message-ID` header, derived from `dedupeKey`: a resend carries the same one. */
  messageId: string;
  cause: EmailCause;
  /** The language the reader asked for (`Content-Language`), when the event says it: `en`, `de-CH`. */
  language?: string;
}

/** The local read model's view of a user: where their e-mail goes. */
export interface Recipient {
  userId: string;
  email: string;
  name: string;
}
