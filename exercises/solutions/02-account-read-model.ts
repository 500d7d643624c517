import type { AccountEventMessage } from '@am/contracts';
import type { CustomerSpending, SpendingView } from '../02-account-read-model/types.js';

const none: CustomerSpending = { paidOrders: 0, spent: 0, refunds: 0, refunded: 0, closed: false };

/** Reference solution: skip what was applied, then fold the event into a copy of its customer's entry. */
export function evolveSpending(view: SpendingView, event: AccountEventMessage): SpendingView {
  if (view.applied.includes(event.messageId)) return view;
  const before = view.customers[event.data.accountId] ?? none;
  let after: CustomerSpending = before;
  switch (event.type) {
    case 'account.AccountOpened':
      break;
    case 'account.AccountClosed':
      after = { ...before, closed: true };
      break;
    case 'account.MoneyWithdrawn':
      if (event.data.orderId)
        after = { ...before, paidOrders: before.paidOrders + 1, spent: before.spent + event.data.amount };
      break;
    case 'account.MoneyDeposited':
      if (event.data.orderId)
        after = { ...before, refunds: before.refunds + 1, refunded: before.refunded + event.data.amount };
      break;
  }
  return {
    customers: { ...view.customers, [event.data.accountId]: after },
    applied: [...view.applied, event.messageId],
  };
}
