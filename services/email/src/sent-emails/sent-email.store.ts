import type { EntityManager } from 'typeorm';
import type { Email, EmailKind } from '../emails/email.js';

/** One line of the sent-mail log, as `GET /emails` shows it. */
export interface SentEmail {
  to: string;
  subject: string;
  kind: EmailKind;
  /** The message id of the event that caused the e-mail. */
  eventId: string;
  eventType: string;
  /** The `Message-ID` header the e-mail went out with. */
  messageId: string;
  sentAt: string;
}

/**
 * Takes the e-mail's dedupe key in `sent_emails`, inside the caller's transaction. Returns false when the key is
 * taken: this e-mail was sent before (or is being sent by a concurrent transaction, which this insert waits for).
 * `ON CONFLICT DO NOTHING` keeps the transaction usable, where a unique violation would abort it.
 */
export async function claimSentEmail(manager: Pick<EntityManager, 'query'>, email: Email): Promise<boolean> {
  const rows: unknown[] = await manager.query(
    `INSERT INTO sent_emails
       (dedupe_key, kind, to_address, subject, smtp_message_id, event_id, event_type, correlation_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
    [
      email.dedupeKey,
      email.kind,
      email.to.address,
      email.subject,
      email.messageId,
      email.cause.messageId,
      email.cause.type,
      email.cause.correlationId,
    ],
  );
  return rows.length === 1;
}

interface SentEmailRow {
  to_address: string;
  subject: string;
  kind: EmailKind;
  event_id: string;
  event_type: string;
  smtp_message_id: string;
  sent_at: Date;
}

/** The e-mails sent to `address` (case-insensitive), oldest first, at most `limit`. */
export async function listSentEmails(
  manager: Pick<EntityManager, 'query'>,
  address: string,
  limit = 500,
): Promise<SentEmail[]> {
  const rows = await manager.query<SentEmailRow[]>(
    `SELECT to_address, subject, kind, event_id, event_type, smtp_message_id, sent_at
       FROM sent_emails WHERE lower(to_address) = lower($1) ORDER BY sent_at, id LIMIT $2`,
    [address, limit],
  );
  return rows.map((r) => ({
    to: r.to_address,
    subject: r.subject,
    kind: r.kind,
    eventId: r.event_id,
    eventType: r.event_type,
    messageId: r.smtp_message_id,
    sentAt: r.sent_at.toISOString(),
  }));
}
