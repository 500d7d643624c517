import { createHash } from 'node:crypto';
import { RetryHeaders } from '@am/messaging';

/** What the audit service keeps of one dead letter: a row of `dead_letters` before the database adds its id. */
export interface DeadLetterRecord {
  /** The dead letter queue it came from (`order-processing-dlq`). */
  queue: string;
  /** The AMQP message id, or `sha256:<hex of the body>` when the message had none. */
  messageId: string;
  messageType: string | null;
  correlationId: string | null;
  /** The body exactly as it arrived: it may be invalid JSON, invalid UTF-8 or very large. */
  content: Buffer;
  reason: string;
  retryCount: number;
  firstFailedAt: Date | null;
  lastFailedAt: Date | null;
  /** Set for a dead letter of the Kafka dead letter topic: where it came from, and what a replay sends again. */
  kafka?: KafkaDeadLetterOrigin;
}

/** A Kafka dead letter's origin (names without the deployment's prefix) and its record's key and headers. */
export interface KafkaDeadLetterOrigin {
  topic: string;
  consumerGroup: string;
  partition: number;
  offset: string;
  key: string;
  /** Every header of the dead letter as written (prefixed names included): a replay starts from them. */
  headers: Record<string, string>;
  /** The original body's size when the dead letter carries a reference instead of the body. */
  bodyOmittedBytes: number | null;
}

/** The parts of an AMQP delivery this reader looks at (a `ConsumeMessage` fits). */
export interface DeadLetterDelivery {
  content: Buffer;
  properties: {
    messageId?: unknown;
    type?: unknown;
    correlationId?: unknown;
    headers?: Record<string, unknown> | undefined;
  };
}

const MAX_ID_LENGTH = 255;
const MAX_REASON_LENGTH = 2_000;
const MAX_RETRY_COUNT = 2_147_483_647;

/**
 * Reads a delivery from a dead letter queue into the record to store. Pure: no clock, no I/O.
 *
 * Anything in a dead letter may be hostile or broken, so nothing is trusted: headers are read only as own
 * properties (a header named `__proto__` must not make other headers appear), text loses NUL characters
 * (PostgreSQL text cannot hold them) and is cut to a bounded length, and a time outside 1970–9999 counts as
 * absent (PostgreSQL would refuse some of them and none of them is real). The body is kept byte for byte.
 *
 * Where the reason comes from, in order: `x-error`, written by the project's consumers on their retry and
 * dead-letter path; else RabbitMQ's `x-death`, written when the broker itself dead-letters a message
 * (rejected without requeue, expired, queue too long).
 */
export function readDeadLetter(queue: string, delivery: DeadLetterDelivery): DeadLetterRecord {
  const headers = delivery.properties.headers ?? {};
  const header = (name: string): unknown => (Object.hasOwn(headers, name) ? headers[name] : undefined);
  const death = firstDeath(header('x-death'));
  const lastFailedAt = readTime(header(RetryHeaders.lastFailureAt)) ?? death?.time ?? null;
  return {
    queue,
    messageId:
      readText(delivery.properties.messageId, MAX_ID_LENGTH) ??
      `sha256:${createHash('sha256').update(delivery.content).digest('hex')}`,
    messageType: readText(delivery.properties.type, MAX_ID_LENGTH),
    correlationId: readText(delivery.properties.correlationId, MAX_ID_LENGTH),
    content: delivery.content,
    reason:
      readText(header(RetryHeaders.error), MAX_REASON_LENGTH) ??
      (death ? `dead-lettered by RabbitMQ: ${death.reason}` : 'unknown: the message carries no x-error or x-death'),
    retryCount: readCount(header(RetryHeaders.retryCount)),
    firstFailedAt: readTime(header(RetryHeaders.firstFailureAt)) ?? lastFailedAt,
    lastFailedAt,
  };
}

/** A header as bounded text without NUL characters, or null when it is absent, empty or not text. */
export function readText(value: unknown, maxLength: number): string | null {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (Buffer.isBuffer(value)) text = value.toString('utf8');
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else return null;
  text = text.replaceAll('\u0000', '').slice(0, maxLength);
  return text.length > 0 ? text : null;
}

/** `x-retry-count` as a non-negative integer that fits the column; anything else counts as no retry. */
export function readCount(value: unknown): number {
  const count = typeof value === 'string' ? Number(value) : value;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) return 0;
  return Math.min(count, MAX_RETRY_COUNT);
}

/**
 * A failure time from a header: the ISO text our consumers write, an AMQP timestamp (amqplib decodes it as
 * `{ '!': 'timestamp', value: seconds }`) or plain epoch seconds. Null when absent or implausible.
 */
export function readTime(value: unknown): Date | null {
  let date: Date;
  if (typeof value === 'string' && value.length <= 64) date = new Date(value);
  else if (typeof value === 'number') date = new Date(value * 1000);
  else if (isTimestamp(value)) date = new Date(value.value * 1000);
  else return null;
  const year = date.getUTCFullYear();
  return Number.isNaN(date.getTime()) || year < 1970 || year > 9999 ? null : date;
}

function isTimestamp(value: unknown): value is { '!': 'timestamp'; value: number } {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<string, unknown>)['!'] === 'timestamp' &&
    typeof (value as Record<string, unknown>).value === 'number'
  );
}

/** The most recent entry of RabbitMQ's `x-death` list (newest first): why and when the broker dead-lettered. */
function firstDeath(value: unknown): { reason: string; time: Date | null } | undefined {
  if (!Array.isArray(value)) return undefined;
  const entry: unknown = value[0];
  if (typeof entry !== 'object' || entry === null) return undefined;
  const fields = entry as Record<string, unknown>;
  const reason = readText(Object.hasOwn(fields, 'reason') ? fields.reason : undefined, 100) ?? 'unknown';
  const from = readText(Object.hasOwn(fields, 'queue') ? fields.queue : undefined, MAX_ID_LENGTH);
  return {
    reason: from ? `${reason} from ${from}` : reason,
    time: readTime(Object.hasOwn(fields, 'time') ? fields.time : undefined),
  };
}
