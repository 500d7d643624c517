import { describe, expect, it } from 'vitest';
import { decide } from './account.decide.js';
import type { AccountCommand, AccountErrorCode, AccountEvent } from './account.events.js';
import { CorruptStreamError, foldAccount } from './account.evolve.js';

// Given/When/Then over the decider: given the history of an account, when a command arrives, then these events
// are recorded (or the command is refused for this reason). History in, events out; nothing else.
const given = (history: AccountEvent[]) => ({
  when: (command: AccountCommand) => {
    const decision = decide(command, foldAccount(history));
    return {
      then: (events: AccountEvent[]) => expect(decision).toEqual({ ok: true, events }),
      thenRefused: (code: AccountErrorCode) => {
        expect(decision).toMatchObject({ ok: false, error: { code } });
        if (!decision.ok) expect(decision.error.message).not.toBe('');
      },
    };
  },
});

const accountId = 'alice-123';
const orderId = '8b0a3a6e-0a8a-4c41-9a0e-3f0f3b8f1a01';
const opened: AccountEvent = { type: 'AccountOpened', data: { accountId, name: 'Alice' } };
const deposited = (amount: number): AccountEvent => ({ type: 'MoneyDeposited', data: { accountId, amount } });
const withdrawn = (amount: number): AccountEvent => ({ type: 'MoneyWithdrawn', data: { accountId, amount } });
const closed: AccountEvent = { type: 'AccountClosed', data: { accountId, reason: 'customer left' } };

const open: AccountCommand = { type: 'OpenAccount', data: { accountId, name: 'Alice' } };
const deposit = (amount: number, extra: { orderId?: string } = {}): AccountCommand => ({
  type: 'Deposit',
  data: { accountId, amount, ...extra },
});
const withdraw = (amount: number, extra: { orderId?: string } = {}): AccountCommand => ({
  type: 'Withdraw',
  data: { accountId, amount, ...extra },
});
const close: AccountCommand = { type: 'CloseAccount', data: { accountId, reason: 'customer left' } };

/** The article's account: opened, 1000 in, 200 and 50 out. */
const articleHistory = [opened, deposited(1000), withdrawn(200), withdrawn(50)];

describe('account state (evolve)', () => {
  it('answers the article: 0 + 1000 - 200 - 50 = 750', () => {
    expect(foldAccount(articleHistory)).toEqual({
      exists: true,
      id: accountId,
      name: 'Alice',
      balance: 750,
      isOpen: true,
    });
  });

  it('starts with no account, and a closed account keeps its balance', () => {
    expect(foldAccount([])).toEqual({ exists: false });
    expect(foldAccount([...articleHistory, closed])).toMatchObject({ balance: 750, isOpen: false });
  });

  it('reports a stream that no decider could have written', () => {
    expect(() => foldAccount([deposited(5)])).toThrow(CorruptStreamError);
    expect(() => foldAccount([opened, opened])).toThrow(CorruptStreamError);
  });
});

describe('account decider', () => {
  describe('OpenAccount', () => {
    it('opens an account that does not exist yet', () => {
      given([]).when(open).then([opened]);
    });

    it('refuses to open an account twice', () => {
      given([opened]).when(open).thenRefused('already_opened');
    });
  });

  describe('Deposit', () => {
    it('records a deposit on an open account', () => {
      given([opened])
        .when(deposit(1000))
        .then([deposited(1000)]);
    });

    it('keeps the order id of a refund', () => {
      given([opened])
        .when(deposit(300, { orderId }))
        .then([{ type: 'MoneyDeposited', data: { accountId, amount: 300, orderId } }]);
    });

    it('refuses a deposit without an account', () => {
      given([]).when(deposit(1000)).thenRefused('no_account');
    });

    it('refuses a deposit on a closed account', () => {
      given([opened, closed]).when(deposit(1000)).thenRefused('account_closed');
    });

    it('refuses a zero, negative or fractional amount', () => {
      for (const amount of [0, -5, 1.5, Number.NaN])
        given([opened]).when(deposit(amount)).thenRefused('invalid_amount');
    });

    it('refuses a deposit that would take the balance past the largest safe integer', () => {
      given([opened, deposited(Number.MAX_SAFE_INTEGER)])
        .when(deposit(1))
        .thenRefused('invalid_amount');
    });
  });

  describe('Withdraw', () => {
    it('records a withdrawal covered by the balance (the article: 750 left)', () => {
      given([opened, deposited(1000), withdrawn(200)])
        .when(withdraw(50))
        .then([withdrawn(50)]);
    });

    it('lets the balance reach exactly zero', () => {
      given(articleHistory)
        .when(withdraw(750))
        .then([withdrawn(750)]);
    });

    it('refuses one cent more than the balance', () => {
      given(articleHistory).when(withdraw(751)).thenRefused('insufficient_funds');
    });

    it('keeps the order id of a payment', () => {
      given(articleHistory)
        .when(withdraw(100, { orderId }))
        .then([{ type: 'MoneyWithdrawn', data: { accountId, amount: 100, orderId } }]);
    });

    it('refuses a withdrawal without an account', () => {
      given([]).when(withdraw(1)).thenRefused('no_account');
    });

    it('refuses a withdrawal from a closed account, even one with money on it', () => {
      given([...articleHistory, closed])
        .when(withdraw(1))
        .thenRefused('account_closed');
    });

    it('refuses a zero, negative or fractional amount', () => {
      for (const amount of [0, -5, 0.5]) given(articleHistory).when(withdraw(amount)).thenRefused('invalid_amount');
    });
  });

  describe('CloseAccount', () => {
    it('closes an open account', () => {
      given(articleHistory).when(close).then([closed]);
    });

    it('refuses to close an account that does not exist', () => {
      given([]).when(close).thenRefused('no_account');
    });

    it('refuses to close an account twice', () => {
      given([opened, closed]).when(close).thenRefused('account_closed');
    });
  });
});
