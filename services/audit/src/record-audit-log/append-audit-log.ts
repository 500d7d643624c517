import type { Envelope } from '@am/contracts';
import type { MessageContext } from '@am/messaging';

/**
 * Appends one envelope to `audit_log`, in the transaction of its delivery. The library has validated it and claimed
 * its id in the inbox; the row commits with the inbox row. `ON CONFLICT DO NOTHING` is a second guard on (source,
 * message id), so the log stays one row per message even if the inbox were cleaned up and a message came again.
 */
export async function append(event: Envelope, ctx: MessageContext): Promise<void> {
  await ctx.manager.query(
    `INSERT INTO audit_log (source, message_id, type, version, correlation_id, causation_id, occurred_at, data)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT ON CONSTRAINT audit_log_once DO NOTHING`,
    [
      ctx.source,
      event.messageId,
      event.type,
      event.version,
      event.correlationId,
      event.causationId,
      event.occurredAt,
      JSON.stringify(event.data),
    ],
  );
}
