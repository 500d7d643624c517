import type { AccountEventMessage } from '@am/contracts';

/** What the shop knows of one customer's spending, built from `account-events` alone. Amounts in cents. */
export interface CustomerSpending {
  /** Orders paid: withdrawals that name an order. */
  paidOrders: number;
  spent: number;
  /** Refunds: deposits that name an order (the saga's compensation of a payment). */
  refunds: number;
  refunded: number;
  closed: boolean;
}

/** The read model: one entry per account, and the message ids already applied (the consumer's inbox). */
export interface SpendingView {
  customers: Record<string, CustomerSpending>;
  applied: string[];
}

export type EvolveSpending = (view: SpendingView, event: AccountEventMessage) => SpendingView;

export const emptyView: SpendingView = { customers: {}, applied: [] };
