import type { EntityManager } from 'typeorm';

/**
 * Pattern: idempotent consumer (the article's `processed_messages`).
 * Records that `consumer` has handled `messageId`, inside the caller's transaction. Returns false when it was
 * recorded before: the caller then skips the effect. `ON CONFLICT DO NOTHING` keeps the transaction usable,
 * where a unique violation would abort it.
 */
export async function claimMessage(manager: EntityManager, consumer: string, messageId: string): Promise<boolean> {
  const rows: unknown[] = await manager.query(
    `INSERT INTO processed_messages (consumer, message_id) VALUES ($1, $2)
     ON CONFLICT DO NOTHING RETURNING message_id`,
    [consumer, messageId],
  );
  return rows.length === 1;
}
