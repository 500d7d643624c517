import { isUtf8 } from 'node:buffer';

/** Bodies up to this size are shown inline as text; larger ones are fetched from `/dead-letters/:id/content`. */
export const INLINE_CONTENT_LIMIT = 64 * 1024;

/**
 * The most of a body the store keeps (16 MiB). A larger dead letter is stored with its first 16 MiB, its whole size
 * and SHA-256, and a flag; it cannot be replayed (the rest is gone). It bounds what one dead letter costs the store's
 * memory and disk, and what one download of it costs.
 */
export const MAX_STORED_CONTENT_BYTES = 16 * 1024 * 1024;

/**
 * A row of `dead_letters` as the inspect queries select it: the body only when it is small enough to show
 * (`content` is null otherwise, so a list of 10 MB dead letters does not read 10 MB each), and its size.
 */
export interface DeadLetterRow {
  id: string;
  queue: string;
  message_id: string;
  message_type: string | null;
  correlation_id: string | null;
  reason: string;
  retry_count: number;
  first_failed_at: Date | null;
  last_failed_at: Date | null;
  received_at: Date;
  replayed_at: Date | null;
  replay_count: number;
  replayed_by: string | null;
  content_bytes: number;
  content_truncated: boolean;
  content_sha256: string | null;
  content: Buffer | null;
}

/** The columns and expressions that produce a `DeadLetterRow`. */
export const DEAD_LETTER_COLUMNS = `id, queue, message_id, message_type, correlation_id, reason, retry_count,
  first_failed_at, last_failed_at, received_at, replayed_at, replay_count, replayed_by,
  coalesce(content_bytes, octet_length(content))::float8 AS content_bytes, content_truncated, content_sha256,
  CASE WHEN octet_length(content) <= ${INLINE_CONTENT_LIMIT} AND NOT content_truncated THEN content END AS content`;

/** A dead letter as `GET /dead-letters` shows it. */
export interface DeadLetterView {
  id: number;
  queue: string;
  /** Where a replay sends it: the dead letter queue's name without `-dlq`. */
  originalQueue: string;
  messageId: string;
  type: string | null;
  correlationId: string | null;
  reason: string;
  retryCount: number;
  firstFailedAt: string | null;
  lastFailedAt: string | null;
  receivedAt: string;
  replayedAt: string | null;
  replayCount: number;
  /** The operator (token subject) of the last replay. */
  replayedBy: string | null;
  /** The body's whole size; when `contentTruncated`, only the first MAX_STORED_CONTENT_BYTES of it are kept. */
  contentBytes: number;
  contentTruncated: boolean;
  /** SHA-256 of the whole body, for a body larger than what the store keeps. */
  contentSha256: string | null;
  /** The body as text when it is valid UTF-8 and at most 64 KiB; null otherwise (see `contentNote`). */
  content: string | null;
  contentNote?: string;
}

/** Turns a row into its view. Pure. */
export function toDeadLetterView(row: DeadLetterRow): DeadLetterView {
  return {
    id: Number(row.id),
    queue: row.queue,
    originalQueue: row.queue.replace(/-dlq$/, ''),
    messageId: row.message_id,
    type: row.message_type,
    correlationId: row.correlation_id,
    reason: row.reason,
    retryCount: row.retry_count,
    firstFailedAt: row.first_failed_at?.toISOString() ?? null,
    lastFailedAt: row.last_failed_at?.toISOString() ?? null,
    receivedAt: row.received_at.toISOString(),
    replayedAt: row.replayed_at?.toISOString() ?? null,
    replayCount: row.replay_count,
    replayedBy: row.replayed_by,
    contentBytes: Number(row.content_bytes),
    contentTruncated: row.content_truncated,
    contentSha256: row.content_sha256,
    ...(row.content_truncated
      ? {
          content: null,
          contentNote: `${row.content_bytes} bytes, of which the first ${MAX_STORED_CONTENT_BYTES} are kept (the store's limit); they are at GET /dead-letters/${row.id}/content; the whole body's SHA-256 is contentSha256`,
        }
      : describeContent(row.id, Number(row.content_bytes), row.content)),
  };
}

/**
 * The body as text when that is safe to show, else a note saying why not and where the bytes are. A body
 * that is not UTF-8 is never decoded with replacement characters: that would show something that was not sent.
 */
export function describeContent(
  id: string,
  size: number,
  content: Buffer | null,
): { content: string | null; contentNote?: string } {
  const where = `the exact bytes are at GET /dead-letters/${id}/content`;
  if (content === null || size > INLINE_CONTENT_LIMIT) {
    return {
      content: null,
      contentNote: `${size} bytes, too large to show inline (limit ${INLINE_CONTENT_LIMIT}); ${where}`,
    };
  }
  if (!isUtf8(content)) return { content: null, contentNote: `${size} bytes, not valid UTF-8; ${where}` };
  return { content: content.toString('utf8') };
}
