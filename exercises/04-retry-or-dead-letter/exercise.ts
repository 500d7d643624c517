import { NotYetImplemented } from '../lib.js';
import type { Failure, Next } from './types.js';

/** Retry later, or dead-letter now? Write it: see README.md. */
export function decideFailure(_failure: Failure, _delaysMs: readonly number[]): Next {
  throw new NotYetImplemented('decideFailure');
}
