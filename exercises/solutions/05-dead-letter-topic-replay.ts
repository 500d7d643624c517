import { planReplay as projectPlanReplay } from '@am/messaging';
import type { DeadLetterRecord, ReplayPlan } from '../05-dead-letter-topic-replay/types.js';

/**
 * Reference solution: the project's own planner (`planReplay` in libs/messaging/src/kafka/dead-letter-replay.ts),
 * which the audit service uses for `POST /dead-letters/:id/replay`. Read it there: the group's dead letters, one
 * per original record, to the group's replay topic, the failure headers dropped and `x-replayed-from` added.
 */
export function planReplay(records: readonly DeadLetterRecord[], group: string): ReplayPlan {
  return projectPlanReplay(records, group);
}
