import { expect } from 'vitest';
import type { AccountEventMessage } from '@am/contracts';
import type { Cases } from '../lib.js';
import { emptyView, type EvolveSpending, type SpendingView } from './types.js';

let next = 0;
const message = (type: AccountEventMessage['type'], data: Record<string, unknown>): AccountEventMessage =>
  ({
    messageId: `00000000-0000-4000-8000-${String(++next).padStart(12, '0')}`,
    type,
    version: 1,
    occurredAt: '2026-01-01T00:00:00.000Z',
    correlationId: 'c',
    causationId: null,
    data,
  }) as AccountEventMessage;

const order1 = '11111111-1111-4111-8111-111111111111';
const order2 = '22222222-2222-4222-8222-222222222222';
const opened = message('account.AccountOpened', { accountId: 'ann', name: 'Ann' });
const topUp = message('account.MoneyDeposited', { accountId: 'ann', amount: 10_000 });
const paid1 = message('account.MoneyWithdrawn', { accountId: 'ann', amount: 2_500, orderId: order1 });
const paid2 = message('account.MoneyWithdrawn', { accountId: 'ann', amount: 1_200, orderId: order2 });
const refund2 = message('account.MoneyDeposited', { accountId: 'ann', amount: 1_200, orderId: order2 });
const closed = message('account.AccountClosed', { accountId: 'ann', reason: 'customer asked' });

/** Given these events, applied in order from an empty view. */
const given = (evolve: EvolveSpending, ...events: AccountEventMessage[]): SpendingView =>
  events.reduce(evolve, emptyView);

export const cases: Cases<EvolveSpending> = {
  'an opened account has spent nothing yet': (evolve) => {
    expect(given(evolve, opened).customers).toEqual({
      ann: { paidOrders: 0, spent: 0, refunds: 0, refunded: 0, closed: false },
    });
  },
  'a payment for an order counts; a top-up without an order is not spending': (evolve) => {
    expect(given(evolve, opened, topUp, paid1, paid2).customers.ann).toEqual({
      paidOrders: 2,
      spent: 3_700,
      refunds: 0,
      refunded: 0,
      closed: false,
    });
  },
  "a refund is a deposit that names an order (the saga's compensation)": (evolve) => {
    expect(given(evolve, opened, topUp, paid1, paid2, refund2, closed).customers.ann).toEqual({
      paidOrders: 2,
      spent: 3_700,
      refunds: 1,
      refunded: 1_200,
      closed: true,
    });
  },
  'applies each message once: a redelivered event changes nothing (the view is an idempotent consumer)': (evolve) => {
    const once = given(evolve, opened, paid1);
    expect(evolve(once, paid1)).toEqual(once);
    expect(given(evolve, opened, paid1, paid1, paid1).customers.ann!.spent).toBe(2_500);
  },
  'never changes the view it was given (a failed batch must leave the old view as it was)': (evolve) => {
    const before = given(evolve, opened);
    const copy = structuredClone(before);
    evolve(before, paid1);
    expect(before).toEqual(copy);
  },
  'an event of an account it has not seen opened still counts (a replay may start anywhere)': (evolve) => {
    expect(given(evolve, paid1).customers.ann).toEqual({
      paidOrders: 1,
      spent: 2_500,
      refunds: 0,
      refunded: 0,
      closed: false,
    });
  },
};
