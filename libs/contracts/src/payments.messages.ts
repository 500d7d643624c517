import { z } from 'zod';
import { defineMessage, type MessageOf } from './message.js';

// Replies of the payments service to the order saga, on the `saga-replies` exchange.

export const PaymentCompleted = defineMessage(
  'payment.completed',
  1,
  z.object({ sagaId: z.uuid(), orderId: z.uuid(), amount: z.number().int().positive() }),
);
export type PaymentCompleted = MessageOf<typeof PaymentCompleted>;

export const PaymentFailed = defineMessage(
  'payment.failed',
  1,
  z.object({
    sagaId: z.uuid(),
    orderId: z.uuid(),
    reason: z.enum(['insufficient_funds', 'no_account', 'account_closed', 'voided']),
  }),
);
export type PaymentFailed = MessageOf<typeof PaymentFailed>;

export type PaymentReply = PaymentCompleted | PaymentFailed;
export const paymentReplies = [PaymentCompleted, PaymentFailed] as const;

// Account events (the article's event-sourced account), published from the payments event store to the
// Kafka topic `account-events`, keyed by account id. The envelope type is `account.<EventType>`.

const accountId = z.string().min(1).max(64);

export const AccountOpened = defineMessage(
  'account.AccountOpened',
  1,
  z.object({ accountId, name: z.string().min(1) }),
);
export const MoneyDeposited = defineMessage(
  'account.MoneyDeposited',
  1,
  z.object({ accountId, amount: z.number().int().positive(), orderId: z.uuid().optional() }),
);
export const MoneyWithdrawn = defineMessage(
  'account.MoneyWithdrawn',
  1,
  z.object({ accountId, amount: z.number().int().positive(), orderId: z.uuid().optional() }),
);
export const AccountClosed = defineMessage('account.AccountClosed', 1, z.object({ accountId, reason: z.string() }));

export type AccountEventMessage =
  | MessageOf<typeof AccountOpened>
  | MessageOf<typeof MoneyDeposited>
  | MessageOf<typeof MoneyWithdrawn>
  | MessageOf<typeof AccountClosed>;
export const accountEventMessages = [AccountOpened, MoneyDeposited, MoneyWithdrawn, AccountClosed] as const;
