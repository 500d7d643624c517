import type { AccountEventMessage } from '@am/contracts';
import { NotYetImplemented } from '../lib.js';
import type { SpendingView } from './types.js';

/** Applies one account event to the view, returning the new view. Write it: see README.md. */
export function evolveSpending(_view: SpendingView, _event: AccountEventMessage): SpendingView {
  throw new NotYetImplemented('evolveSpending');
}
