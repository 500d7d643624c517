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

/**
 * The set-based form of `claimMessage`, for a batch: records every message id not recorded before for `consumer`,
 * in one statement, and returns those (a message id twice in the batch is claimed once). The caller applies the
 * effect of exactly the returned ids.
 */
export async function claimMessages(
  manager: EntityManager,
  consumer: string,
  messageIds: readonly string[],
): Promise<Set<string>> {
  if (messageIds.length === 0) return new Set();
  const rows: { message_id: string }[] = await manager.query(
    `INSERT INTO processed_messages (consumer, message_id)
     SELECT $1, id FROM (SELECT DISTINCT unnest($2::uuid[]) AS id) AS ids
     ON CONFLICT DO NOTHING RETURNING message_id`,
    [consumer, messageIds],
  );
  return new Set(rows.map((r) => r.message_id));
}
