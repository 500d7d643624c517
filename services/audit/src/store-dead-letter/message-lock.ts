import type { EntityManager } from 'typeorm';

/** The first key of the advisory locks on one message's dead letters ("DLM" in ASCII). */
const DEAD_LETTER_MESSAGE_LOCK_CLASS = 0x444c4d;

/**
 * Takes the transaction-scoped lock on message `messageId`'s dead letters. Storing a dead letter and marking one
 * replayed both take it before they look for each other: without it each could run before the other committed and
 * neither would set `came_back_at` (the store sees no replay yet, the mark does not see the new row).
 */
export async function lockDeadLettersOf(manager: EntityManager, messageId: string): Promise<void> {
  await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [DEAD_LETTER_MESSAGE_LOCK_CLASS, messageId]);
}
