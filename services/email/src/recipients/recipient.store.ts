import type { EntityManager } from 'typeorm';
import type { Recipient } from '../emails/email.js';

/**
 * Pattern: local read model of self-contained events. Order events carry a user id but no address, so the
 * service keeps the address of every registered user itself, from `user.registered`, instead of asking the
 * orders service at send time (which would couple the two and fail whenever orders is down).
 */
export async function saveRecipient(
  manager: Pick<EntityManager, 'query'>,
  recipient: Recipient,
  registeredAt: string,
): Promise<void> {
  // A later registration of the same user wins; an older one arriving late changes nothing.
  await manager.query(
    `INSERT INTO email_recipients (user_id, email, name, registered_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (user_id) DO UPDATE
       SET email = EXCLUDED.email, name = EXCLUDED.name, registered_at = EXCLUDED.registered_at, updated_at = now()
       WHERE email_recipients.registered_at <= EXCLUDED.registered_at`,
    [recipient.userId, recipient.email, recipient.name, registeredAt],
  );
}

/** The recipient of a user id, or undefined when no `user.registered` for it has arrived. */
export async function findRecipient(
  manager: Pick<EntityManager, 'query'>,
  userId: string,
): Promise<Recipient | undefined> {
  const rows = await manager.query<{ user_id: string; email: string; name: string }[]>(
    'SELECT user_id, email, name FROM email_recipients WHERE user_id = $1',
    [userId],
  );
  const row = rows[0];
  return row ? { userId: row.user_id, email: row.email, name: row.name } : undefined;
}
