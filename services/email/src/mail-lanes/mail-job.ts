import { SendMail, type MailKind } from '@am/contracts';
import { Exchanges, MailHeaders, toExchange, type MailPriority, type MessageContext } from '@am/messaging';
import type { Email } from '../emails/email.js';

/**
 * The lane an e-mail travels in: order mail is awaited by a customer who has just paid or been let down, a
 * welcome e-mail can wait behind others of its kind.
 */
export function mailPriority(kind: MailKind): MailPriority {
  switch (kind) {
    case 'order-confirmed':
    case 'order-cancelled':
      return 'high';
    case 'welcome':
      return 'bulk';
    default: {
      const _exhaustive: never = kind;
      return _exhaustive;
    }
  }
}

/** The headers the `mail` exchange routes a job by (its routing key is ignored). */
export function mailHeaders(kind: MailKind): Record<string, string> {
  return { [MailHeaders.kind]: kind, [MailHeaders.priority]: mailPriority(kind) };
}

/** The `mail.send` job for an e-mail: its cause's correlation id, caused by the message that called for it. */
export function mailJob(email: Email): SendMail {
  return SendMail.create(email, { correlationId: email.cause.correlationId, causationId: email.cause.messageId });
}

/**
 * Hands an e-mail to the sender (pattern: transactional outbox): the job joins the outbox of the message's
 * transaction, so it goes to the `mail` exchange if and only if the message is handled; the relay publishes it
 * with its headers after the commit.
 */
export function queueMail(ctx: MessageContext, email: Email): void {
  ctx.send(toExchange(Exchanges.mail), mailJob(email), mailHeaders(email.kind));
}
