import type { AccountCommand, AccountError, AccountErrorCode, AccountState, Decision } from './account.events.js';

/**
 * Pattern: decider. Given a command and the current state of its account, returns the events that record what
 * happens, or the reason the command is refused. Pure: the same inputs always give the same answer, so every
 * business rule of an account is a unit test (`account.decide.unit.spec.ts`).
 */
export function decide(command: AccountCommand, state: AccountState): Decision {
  if (command.type === 'OpenAccount') {
    if (state.exists) return refuse('already_opened', `account ${state.id} is open already`);
    return accept({ type: 'AccountOpened', data: { accountId: command.data.accountId, name: command.data.name } });
  }
  if (!state.exists) return refuse('no_account', `no account ${command.data.accountId}`);
  if (!state.isOpen) return refuse('account_closed', `account ${state.id} is closed`);
  switch (command.type) {
    case 'Deposit': {
      const { amount } = command.data;
      if (!isPositiveCents(amount)) return refuse('invalid_amount', `a deposit must be positive cents, got ${amount}`);
      if (!Number.isSafeInteger(state.balance + amount)) {
        return refuse('invalid_amount', `a deposit of ${amount} would overflow the balance`);
      }
      return accept({ type: 'MoneyDeposited', data: { ...command.data } });
    }
    case 'Withdraw': {
      const { amount } = command.data;
      if (!isPositiveCents(amount)) {
        return refuse('invalid_amount', `a withdrawal must be positive cents, got ${amount}`);
      }
      // The one rule that money depends on: the balance never goes below zero.
      if (amount > state.balance) {
        return refuse('insufficient_funds', `balance ${state.balance} is less than ${amount}`);
      }
      return accept({ type: 'MoneyWithdrawn', data: { ...command.data } });
    }
    case 'CloseAccount':
      return accept({ type: 'AccountClosed', data: { accountId: state.id, reason: command.data.reason } });
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

const isPositiveCents = (amount: number) => Number.isSafeInteger(amount) && amount > 0;

const accept = (...events: Extract<Decision, { ok: true }>['events']): Decision => ({ ok: true, events });

const refuse = (code: AccountErrorCode, message: string): Decision => ({
  ok: false,
  error: { code, message } satisfies AccountError,
});
