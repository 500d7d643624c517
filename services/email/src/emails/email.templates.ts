import type { CancellationReason, OrderCancelled, OrderConfirmed, UserRegistered } from '@am/contracts';
import type { Email, EmailCause, EmailKind, Recipient } from './email.js';
import { dedupeKey, emailMessageId } from './email.message-id.js';

// The e-mails as pure functions of the event (and, for order events, the recipient from the read model):
// no clock, no I/O, so the text and the keys can be tested without a server.

/** Name of the shop in the e-mails. */
export const SHOP_NAME = 'Async Shop';

/** Cents as a decimal amount with two places: 2500 → "25.00". */
export function formatAmount(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** A short reference of an order for subjects: the first block of its uuid. */
export function orderReference(orderId: string): string {
  return orderId.split('-')[0] ?? orderId;
}

/** Why an order was cancelled, in words for the customer. */
export function describeCancellation(reason: CancellationReason): string {
  switch (reason) {
    case 'out_of_stock':
      return 'some of the items are out of stock';
    case 'payment_failed':
      return 'the payment did not go through';
    case 'timeout':
      return 'we could not complete it in time';
    default: {
      const _exhaustive: never = reason;
      return _exhaustive;
    }
  }
}

const causeOf = (event: { messageId: string; type: string; correlationId: string }): EmailCause => ({
  messageId: event.messageId,
  type: event.type,
  correlationId: event.correlationId,
});

function email(
  kind: EmailKind,
  subjectId: string,
  to: Recipient,
  subject: string,
  lines: string[],
  cause: EmailCause,
): Email {
  return {
    kind,
    dedupeKey: dedupeKey(kind, subjectId),
    to: { address: to.email, name: to.name },
    subject,
    text: [`Hello ${to.name},`, '', ...lines, '', `The ${SHOP_NAME} team`, ''].join('\n'),
    messageId: emailMessageId(kind, subjectId),
    cause,
  };
}

/** The full name of a registered user, as the read model keeps it: `Ann Lee`, or `Ann` alone. */
export function fullName(user: Pick<UserRegistered['data'], 'firstName' | 'lastName'>): string {
  return [user.firstName, user.lastName].filter(Boolean).join(' ');
}

/**
 * The welcome e-mail for a new user (the article's `sendWelcomeEmail`); the event itself holds the address.
 * Since `user.registered` v2 the subject greets by first name and the mail says which language it is for.
 */
export function welcomeEmail(event: UserRegistered): Email {
  const { userId, email: address, firstName, locale } = event.data;
  return {
    ...email(
      'welcome',
      userId,
      { userId, email: address, name: fullName(event.data) },
      `Welcome to ${SHOP_NAME}, ${firstName}!`,
      [`welcome to ${SHOP_NAME}! Your account is ready, and you can place your first order now.`],
      causeOf(event),
    ),
    language: locale,
  };
}

/** The confirmation of an order that was reserved and paid. */
export function orderConfirmedEmail(event: OrderConfirmed, recipient: Recipient): Email {
  const { orderId, total } = event.data;
  return email(
    'order-confirmed',
    orderId,
    recipient,
    `Your order ${orderReference(orderId)} is confirmed`,
    [
      `thank you for your order. We have reserved your items and received your payment.`,
      '',
      `Order: ${orderId}`,
      `Total: ${formatAmount(total)}`,
    ],
    causeOf(event),
  );
}

/** The news that an order was cancelled, with the reason. */
export function orderCancelledEmail(event: OrderCancelled, recipient: Recipient): Email {
  const { orderId, total, reason } = event.data;
  return email(
    'order-cancelled',
    orderId,
    recipient,
    `Your order ${orderReference(orderId)} was cancelled`,
    [
      `we are sorry: your order was cancelled because ${describeCancellation(reason)}.`,
      'If any payment was taken for it, it is refunded.',
      '',
      `Order: ${orderId}`,
      `Total: ${formatAmount(total)}`,
    ],
    causeOf(event),
  );
}
