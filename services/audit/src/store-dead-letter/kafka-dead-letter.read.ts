import { createHash } from 'node:crypto';
import { KafkaHeaders, Topics, deadLetterOrigin } from '@am/messaging';
import { readText, type DeadLetterRecord } from './dead-letter.read.js';

/** A record of the dead letter topic as the audit service's consumer reads it. */
export interface DeadLetterTopicDelivery {
  partition: number;
  offset: string;
  /** Milliseconds since the epoch, as text (kafkajs): when the dead letter was written. */
  timestamp: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

const MAX_ID_LENGTH = 255;
const MAX_REASON_LENGTH = 2_000;
const MAX_HEADER_LENGTH = 8_192;

/**
 * Reads a record of `order-events.dlt` into the row to store, with its origin (topic, partition, offset, group:
 * the dead letter's identity, so a record read twice is stored once). Pure. The headers are the project's own
 * consumers' (`KafkaMember.deadLetter`), but nothing is trusted: text loses NUL characters and is bounded, and a
 * record that does not say where it came from is stored under its own position in the dead letter topic (it
 * cannot be replayed: the replay says so).
 */
export function readKafkaDeadLetter(record: DeadLetterTopicDelivery, prefix: string): DeadLetterRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.headers)) {
    const text = readText(value, MAX_HEADER_LENGTH);
    if (text !== null && name.length <= MAX_ID_LENGTH && !name.includes('\u0000')) headers[name] = text;
  }
  const origin = deadLetterOrigin(headers, prefix);
  const attempts = Number(headers[KafkaHeaders.attempts]);
  const omitted = Number(headers[KafkaHeaders.bodyOmitted]);
  const writtenAt = new Date(Number(record.timestamp));
  const failedAt = Number.isNaN(writtenAt.getTime()) ? null : writtenAt;
  return {
    queue: Topics.orderEventsDeadLetters,
    messageId:
      readText(headers[KafkaHeaders.messageId], MAX_ID_LENGTH) ??
      `sha256:${createHash('sha256').update(record.value).digest('hex')}`,
    messageType: readText(headers[KafkaHeaders.eventType], MAX_ID_LENGTH),
    correlationId: readText(headers[KafkaHeaders.correlationId], MAX_ID_LENGTH),
    content: record.value,
    reason:
      readText(headers[KafkaHeaders.error], MAX_REASON_LENGTH) ??
      'unknown: the record carries no x-error (not written by a consumer of the project)',
    retryCount: Number.isInteger(attempts) && attempts > 0 ? Math.min(attempts - 1, 1_000_000) : 0,
    firstFailedAt: failedAt,
    lastFailedAt: failedAt,
    kafka: {
      topic: origin?.topic ?? Topics.orderEventsDeadLetters,
      consumerGroup: origin?.group ?? '',
      partition: origin?.partition ?? record.partition,
      offset: origin?.offset ?? record.offset,
      key: readText(record.key, MAX_HEADER_LENGTH) ?? '',
      headers,
      bodyOmittedBytes: Number.isInteger(omitted) && omitted >= 0 ? omitted : null,
    },
  };
}
