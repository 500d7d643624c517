import { describe, expect, it } from 'vitest';
import { AccountClosed, AccountOpened, MoneyDeposited, MoneyWithdrawn, type AccountEventMessage } from '@am/contracts';
import { accountDeltas } from './account-activity.projection.js';

const origin = { correlationId: 'c' };
const events: AccountEventMessage[] = [
  AccountOpened.create({ accountId: 'a', name: 'Ada' }, origin),
  MoneyDeposited.create({ accountId: 'a', amount: 700 }, origin),
  AccountOpened.create({ accountId: 'b', name: 'Bo' }, origin),
  MoneyDeposited.create({ accountId: 'a', amount: 300 }, origin),
  MoneyWithdrawn.create({ accountId: 'a', amount: 250 }, origin),
  AccountClosed.create({ accountId: 'b', reason: 'asked' }, origin),
];

describe('accountDeltas (what a batch of account events adds to each account)', () => {
  it('folds a batch into one delta per account: flags, counts and sums', () => {
    expect(Object.fromEntries(accountDeltas(events))).toEqual({
      a: { opened: true, closed: false, deposits: 2, deposited: 1000, withdrawals: 1, withdrawn: 250 },
      b: { opened: true, closed: true, deposits: 0, deposited: 0, withdrawals: 0, withdrawn: 0 },
    });
  });

  it('gives the same totals whether the events come in one batch or one at a time', () => {
    const oneByOne = events.map((e) => accountDeltas([e]));
    const sum = (account: string, field: 'deposited' | 'withdrawn') =>
      oneByOne.reduce((total, deltas) => total + (deltas.get(account)?.[field] ?? 0), 0);
    const batch = accountDeltas(events);
    expect(sum('a', 'deposited')).toBe(batch.get('a')!.deposited);
    expect(sum('a', 'withdrawn')).toBe(batch.get('a')!.withdrawn);
  });

  it('has nothing to apply for an empty batch', () => {
    expect(accountDeltas([]).size).toBe(0);
  });
});
