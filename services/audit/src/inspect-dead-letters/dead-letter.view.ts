import { isUtf8 } from 'node:buffer';
import { queues, replayTopic, topics } from '@am/messaging';

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
  /** `queue` for a dead letter queue's letter, `topic` for the Kafka dead letter topic's (then the fields below). */
  source: 'queue' | 'topic';
  topic: string | null;
  consumer_group: string | null;
  original_partition: number | null;
  original_offset: string | null;
  body_omitted_bytes: string | null;
  came_back_at: Date | null;
  /** A Kafka dead letter's record headers (the project's own, as text). */
  record_headers: Record<string, string> | null;
}

/** The columns and expressions that produce a `DeadLetterRow`. */
export const DEAD_LETTER_COLUMNS = `id, queue, message_id, message_type, correlation_id, reason, retry_count,
  first_failed_at, last_failed_at, received_at, replayed_at, replay_count, replayed_by,
  coalesce(content_bytes, octet_length(content))::float8 AS content_bytes, content_truncated, content_sha256,
  CASE WHEN octet_length(content) <= ${INLINE_CONTENT_LIMIT} AND NOT content_truncated THEN content END AS content,
  source, topic, consumer_group, original_partition, original_offset::text AS original_offset,
  body_omitted_bytes::text AS body_omitted_bytes, came_back_at, record_headers`;

/** A dead letter as `GET /dead-letters` shows it. */
export interface DeadLetterView {
  id: number;
  /** Where it waited: the dead letter queue (`order-processing-dlq`) or the dead letter topic (`order-events.dlt`). */
  queue: string;
  source: 'queue' | 'topic';
  /** Where a replay sends a queue's dead letter: the dead letter queue's name without `-dlq`; null for Kafka's. */
  originalQueue: string | null;
  /** A Kafka dead letter's origin, and where a replay sends it (the group's replay topic); null for a queue's. */
  kafka: KafkaDeadLetterView | null;
  /** The service whose consumer failed it: the queue's consumer, or the consumer group's service (topology.ts). */
  consumer: string | null;
  /**
   * The headers it failed with, as stored: a Kafka dead letter's record headers; for a queue's, the library's retry
   * headers as they were read (the AMQP properties are messageId, type and correlationId).
   */
  headers: Record<string, string>;
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
  /** When the same message (its message id) was dead-lettered again after this one was replayed: the fix did not hold. */
  cameBackAt: string | null;
  /** The body's whole size; when `contentTruncated`, only the first MAX_STORED_CONTENT_BYTES of it are kept. */
  contentBytes: number;
  contentTruncated: boolean;
  /** SHA-256 of the whole body, for a body larger than what the store keeps. */
  contentSha256: string | null;
  /** The body as text when it is valid UTF-8 and at most 64 KiB; null otherwise (see `contentNote`). */
  content: string | null;
  contentNote?: string;
}

/** Where a dead letter of the Kafka dead letter topic came from. */
export interface KafkaDeadLetterView {
  topic: string;
  consumerGroup: string;
  partition: number;
  offset: string;
  /** The group's replay topic, which a replay writes (`replayTopic` in the topology). */
  replayTopic: string;
  /** Set when the dead letter carries a reference instead of the body (too large to copy): it cannot be replayed. */
  bodyOmittedBytes: number | null;
}

/** The service whose consumer failed a dead letter: the original queue's consumer, or the consumer group's service. */
export function consumerOf(row: Pick<DeadLetterRow, 'source' | 'queue' | 'consumer_group'>): string | null {
  if (row.source === 'queue') {
    const queue = row.queue.replace(/-dlq$/, '');
    return queues.find((q) => q.name === queue)?.consumer ?? null;
  }
  const group = row.consumer_group ?? '';
  const groups = topics.flatMap((t) => t.groups);
  return groups.find((g) => g.groupId === group || group.endsWith(`.${g.groupId}`))?.consumer ?? null;
}

/** The headers a dead letter failed with, as far as the store kept them. */
function headersOf(row: DeadLetterRow): Record<string, string> {
  if (row.source === 'topic') return row.record_headers ?? {};
  const headers: Record<string, string> = {
    'x-retry-count': String(row.retry_count),
    'x-error': row.reason,
    'x-original-queue': row.queue.replace(/-dlq$/, ''),
  };
  if (row.first_failed_at) headers['x-first-failure-at'] = row.first_failed_at.toISOString();
  if (row.last_failed_at) headers['x-last-failure-at'] = row.last_failed_at.toISOString();
  return headers;
}

/** Turns a row into its view. Pure. */
export function toDeadLetterView(row: DeadLetterRow): DeadLetterView {
  return {
    id: Number(row.id),
    queue: row.queue,
    source: row.source,
    originalQueue: row.source === 'queue' ? row.queue.replace(/-dlq$/, '') : null,
    kafka:
      row.source === 'topic'
        ? {
            topic: row.topic ?? '',
            consumerGroup: row.consumer_group ?? '',
            partition: row.original_partition ?? 0,
            offset: row.original_offset ?? '',
            replayTopic: replayTopic(row.topic ?? '', row.consumer_group ?? ''),
            bodyOmittedBytes: row.body_omitted_bytes === null ? null : Number(row.body_omitted_bytes),
          }
        : null,
    consumer: consumerOf(row),
    headers: headersOf(row),
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
    cameBackAt: row.came_back_at?.toISOString() ?? null,
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
