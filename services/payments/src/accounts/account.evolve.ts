import type { AccountEvent, AccountState } from './account.events.js';

/** The state of a stream with no events: the account does not exist yet. */
export const initialAccountState: AccountState = { exists: false };

/**
 * Pattern: event sourcing, the "reducer" of the article. Applies one event to the state and returns the next
 * state. It never refuses an event (events are facts), but an event that cannot follow the state means the
 * stream is corrupt, and that is reported rather than papered over.
 */
export function evolve(state: AccountState, event: AccountEvent): AccountState {
  if (event.type === 'AccountOpened') {
    if (state.exists) throw new CorruptStreamError(`${event.type} on account ${state.id}, which exists already`);
    return { exists: true, id: event.data.accountId, name: event.data.name, balance: 0, isOpen: true };
  }
  if (!state.exists) throw new CorruptStreamError(`${event.type} before AccountOpened`);
  switch (event.type) {
    case 'MoneyDeposited':
      return { ...state, balance: state.balance + event.data.amount };
    case 'MoneyWithdrawn':
      return { ...state, balance: state.balance - event.data.amount };
    case 'AccountClosed':
      return { ...state, isOpen: false };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

/** Folds a whole stream from the beginning: the current state is nothing but its history. */
export function foldAccount(events: readonly AccountEvent[], from: AccountState = initialAccountState): AccountState {
  return events.reduce(evolve, from);
}

/** An event that cannot follow the events before it: the stream was written by something other than `decide`. */
export class CorruptStreamError extends Error {
  override name = 'CorruptStreamError';
}
