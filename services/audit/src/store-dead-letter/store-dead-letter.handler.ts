import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import type { ConsumeMessage } from '@am/messaging';
import { ServiceMetrics, createLogger } from '@am/observability';
import { MAX_STORED_CONTENT_BYTES } from '../inspect-dead-letters/dead-letter.view.js';
import { readDeadLetter, type DeadLetterRecord } from './dead-letter.read.js';
import { lockDeadLettersOf } from './message-lock.js';
import { readKafkaDeadLetter, type DeadLetterTopicDelivery } from './kafka-dead-letter.read.js';

/** Waits between in-place attempts to store a dead letter while the database is unreachable. */
const STORE_RETRY_DELAYS_MS = [200, 1_000, 5_000];

/**
 * Stores one delivery of a dead letter queue, or one record of the dead letter topic, in `dead_letters` (the
 * article's DLQ consumer, "Alert + Manual review"), then counts it and logs it at error level: a dead letter is
 * something a person has to look at.
 *
 * The consumer acknowledges (or commits the offset) only after this resolves, that is after the INSERT has
 * committed (with the "came back" flag it sets, in one transaction). A redelivery of a dead letter already stored (the ack was lost)
 * finds its row and changes nothing.
 */
@Injectable()
export class StoreDeadLetterHandler {
  private readonly logger = createLogger('audit');
  private readonly stored: Counter<'queue'>;

  constructor(
    private readonly db: DataSource,
    metrics: ServiceMetrics,
  ) {
    this.stored = new Counter({
      name: 'dead_letters_stored_total',
      help: 'Dead letters stored by the audit service, by dead letter queue (or the dead letter topic)',
      labelNames: ['queue'],
      registers: [metrics.registry],
    });
  }

  /** A delivery of the dead letter queue `queue`. */
  async handle(queue: string, delivery: ConsumeMessage): Promise<void> {
    await this.keep(readDeadLetter(queue, delivery));
  }

  /**
   * A record of the dead letter topic (names in its headers carry the deployment's `prefix`). A record stored
   * before (read again after a crash, or written twice by a consumer that crashed) finds its (topic, group,
   * partition, offset) row and changes nothing.
   */
  async handleTopicRecord(record: DeadLetterTopicDelivery, prefix: string): Promise<void> {
    await this.keep(readKafkaDeadLetter(record, prefix));
  }

  private async keep(letter: DeadLetterRecord): Promise<void> {
    const { queue, messageId, kafka } = letter;
    const origin = kafka ? { topic: kafka.topic, group: kafka.consumerGroup, partition: kafka.partition } : {};
    const id = await this.storeRetrying(letter);
    if (id === undefined) {
      this.logger.info({ queue, messageId, ...origin }, 'dead letter was stored before; redelivery ignored');
      return;
    }
    this.stored.inc({ queue });
    this.logger.error(
      { deadLetterId: id, queue, messageId, ...origin, reason: letter.reason, retryCount: letter.retryCount },
      'dead letter stored',
    );
  }

  /**
   * A dead letter queue has nowhere further to send a message, so a database outage is waited out here for a
   * few seconds rather than turned at once into a requeue, which the broker would redeliver immediately.
   */
  private async storeRetrying(letter: DeadLetterRecord): Promise<string | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.store(letter);
      } catch (error) {
        const delay = STORE_RETRY_DELAYS_MS[attempt];
        if (delay === undefined) throw error;
        this.logger.warn(
          { queue: letter.queue, messageId: letter.messageId, err: (error as Error).message, retryInMs: delay },
          'could not store dead letter; retrying',
        );
        await sleep(delay);
      }
    }
  }

  /**
   * Inserts the dead letter; returns its id, or undefined when it is stored already: a queue's by (queue, message
   * id, failure), a topic's by (topic, group, partition, offset) (the unique indexes `dead_letters_once` and
   * `dead_letters_once_per_record`).
   */
  private async store(letter: DeadLetterRecord): Promise<string | undefined> {
    // Past the store's limit only the first part is kept, with the whole size and SHA-256 (dead-letter.view.ts).
    const truncated = letter.content.length > MAX_STORED_CONTENT_BYTES;
    const { kafka } = letter;
    return this.db.transaction(async (manager) => {
      await lockDeadLettersOf(manager, letter.messageId);
      const rows = await manager.query<{ id: string }[]>(
        `INSERT INTO dead_letters (queue, message_id, message_type, correlation_id, content, reason, retry_count,
                                   first_failed_at, last_failed_at, content_bytes, content_truncated, content_sha256,
                                   source, topic, consumer_group, original_partition, original_offset, record_key,
                                   record_headers, body_omitted_bytes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
         ON CONFLICT DO NOTHING
         RETURNING id`,
        [
          letter.queue,
          letter.messageId,
          letter.messageType,
          letter.correlationId,
          truncated ? letter.content.subarray(0, MAX_STORED_CONTENT_BYTES) : letter.content,
          letter.reason,
          letter.retryCount,
          letter.firstFailedAt,
          letter.lastFailedAt,
          letter.content.length,
          truncated,
          truncated ? createHash('sha256').update(letter.content).digest('hex') : null,
          kafka ? 'topic' : 'queue',
          kafka?.topic ?? null,
          kafka?.consumerGroup ?? null,
          kafka?.partition ?? null,
          kafka?.offset ?? null,
          kafka?.key ?? null,
          kafka ? JSON.stringify(kafka.headers) : null,
          kafka?.bodyOmittedBytes ?? null,
        ],
      );
      const id = rows[0]?.id;
      // The same message dead-lettered again after a replay: the replayed letter "came back" (the workbench flags it).
      if (id !== undefined) {
        await manager.query(
          `UPDATE dead_letters SET came_back_at = coalesce(came_back_at, now())
            WHERE message_id = $1 AND id <> $2 AND replayed_at IS NOT NULL`,
          [letter.messageId, id],
        );
      }
      return id;
    });
  }
}
