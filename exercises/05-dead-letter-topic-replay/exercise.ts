import { NotYetImplemented } from '../lib.js';
import type { DeadLetterRecord, ReplayPlan } from './types.js';

/** What to produce to replay a consumer group's dead letters. Write it: see README.md. */
export function planReplay(_records: readonly DeadLetterRecord[], _group: string): ReplayPlan {
  throw new NotYetImplemented('planReplay');
}
