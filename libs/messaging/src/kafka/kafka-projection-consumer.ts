import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import type { Envelope, MessageCatalog } from '@am/contracts';
import { recordSpanFailure, withConsumerSpan } from '@am/observability';
import { lockConsumerOffset, storeConsumerOffset, type PartitionPosition } from '@am/persistence';
import { describeFailure } from '../amqp/amqp-consumer.js';
import { InvalidMessageError } from '../errors.js';
import type { KafkaClient } from './kafka-client.js';
import { KafkaMember, type KafkaMemberOptions } from './kafka-consumer.js';
import type { KafkaSubscription } from './kafka-subscription.js';
import { checkStoredPositions, readKafkaLogFacts } from './kafka-log-check.js';

/**
 * A read model fed from a topic in batches: `project` applies a batch of valid messages, in order, to the tables
 * behind `manager` (set-based statements: one per kind of change, not one per message). It must be idempotent for
 * a message applied twice only in the sense that the offsets below make that impossible: it is called once per
 * message and position.
 */
export interface KafkaProjection<M extends Envelope = Envelope> {
  subscription: KafkaSubscription;
  catalog: MessageCatalog;
  project: (manager: EntityManager, messages: M[]) => Promise<void>;
  /**
   * Empties the read model, for when its stored positions turn out to belong to another Kafka log (see
   * kafka-log-check.ts): the group then rebuilds it from the log's start. Without it, such a group refuses to start.
   */
  reset?: (manager: EntityManager) => Promise<void>;
  /** What `reset` empties, in a few words (the operator's reset preview names it: consumer-group-positions.ts). */
  readModel?: string;
  /** Partitions handled at the same time, each in its own transaction (default 3). */
  partitionsInParallel?: number;
  /**
   * The most one fetch brings of a partition, which bounds a batch (default 4 MiB: about 7,000 order events, four
   * times kafkajs' default, so a catch-up or a rebuild pays a fetch and a commit per several thousand records).
   */
  fetchBytesPerPartition?: number;
}

const FETCH_BYTES_PER_PARTITION = 4 * 1024 * 1024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Pattern: offsets kept with the data, batched projection. A consumer group member that applies each batch of a
 * partition in one transaction together with the partition's next offset (`consumer_offsets`, see
 * `@am/persistence`), so a record's effect and its position commit together: exactly one effect per record with no
 * per-record inbox row, and one commit per batch instead of one per record.
 *
 * - The stored position decides, not Kafka's committed offset: records below it are skipped (already applied);
 *   a batch that starts after it (Kafka's offset ahead of the table) seeks back to it. Kafka's offsets are still
 *   committed after each transaction, as a hint for the next start and for the lag metrics.
 * - A batch that fails for a reason other than an outage is applied again one record at a time, each with the
 *   bounded retries of the subscription, so a poison record goes alone to the dead letter topic and the records
 *   around it are applied.
 * - An outage (the database or a broker unavailable) opens the dependency's breaker; the partition waits,
 *   heartbeating, and the same batch is tried again, without counting an attempt.
 */
export class KafkaProjectionConsumer<M extends Envelope = Envelope> extends KafkaMember {
  constructor(
    client: KafkaClient,
    private readonly projection: KafkaProjection<M>,
    private readonly dataSource: DataSource,
    options: KafkaMemberOptions = {},
  ) {
    super(client, projection.subscription, options);
  }

  protected async run(consumer: Consumer): Promise<void> {
    const { topic, groupId, replayTopic } = this.subscription;
    await checkStoredPositions(
      this.dataSource,
      await readKafkaLogFacts(this.client, topic),
      { groupId: this.client.name(groupId), topic: this.client.name(topic) },
      this.projection.reset,
      this.logger,
      // The replay topic's positions are kept in the same table: checked, and restarted on a reset, with the topic's.
      replayTopic
        ? [{ topic: this.client.name(replayTopic), facts: await readKafkaLogFacts(this.client, replayTopic) }]
        : [],
    );
    await consumer.run({
      // Kafka's offsets follow the table (resolved after each commit); kafkajs commits them after each batch.
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.projection.partitionsInParallel ?? 3,
      eachBatch: (payload) => this.processBatch(consumer, payload),
    });
  }

  /** Batches as large as `fetchBytesPerPartition`, for every partition handled at the same time. */
  protected override fetchSizes(): { maxBytesPerPartition: number; maxBytes: number } {
    const perPartition = this.projection.fetchBytesPerPartition ?? FETCH_BYTES_PER_PARTITION;
    return { maxBytesPerPartition: perPartition, maxBytes: perPartition * (this.projection.partitionsInParallel ?? 3) };
  }

  /**
   * On every assignment, each partition starts at the position the table stored (when it stored one), wherever
   * Kafka's committed offset is: the table is the truth, also for a partition with nothing new to fetch.
   */
  protected override async assigned(consumer: Consumer, assignment: Record<string, number[]>): Promise<void> {
    const groupId = this.client.name(this.subscription.groupId);
    for (const [topic, partitions] of Object.entries(assignment)) {
      const rows: { partition: number; next_offset: string }[] = await this.dataSource.query(
        `SELECT partition, next_offset FROM consumer_offsets
         WHERE group_id = $1 AND topic = $2 AND partition = ANY($3::int[]) AND next_offset >= 0`,
        [groupId, topic, partitions],
      );
      for (const row of rows) consumer.seek({ topic, partition: row.partition, offset: row.next_offset });
    }
  }

  private async processBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const { topic, groupId } = this.subscription;
    const at: PartitionPosition = {
      groupId: this.client.name(groupId),
      topic: batch.topic,
      partition: batch.partition,
    };
    const heartbeat = () => payload.heartbeat();
    const started = performance.now();
    for (;;) {
      await this.waitWhilePaused(heartbeat);
      if (!payload.isRunning() || payload.isStale()) return;
      let outcome: { applied: number; skipped: number; seekTo?: bigint };
      try {
        outcome = await withConsumerSpan(
          `${topic} process`,
          undefined,
          {
            'messaging.system': 'kafka',
            'messaging.operation.type': 'process',
            'messaging.destination.name': topic,
            'messaging.consumer.group.name': groupId,
            'messaging.destination.partition.id': String(batch.partition),
            'messaging.batch.message_count': batch.messages.length,
          },
          () => {
            // Parsed and validated before the transaction opens (its row lock is then held for the statements only);
            // a record that is not valid fails the batch in the transaction, only if it is at or after the position.
            const envelopes = batch.messages.map((m) => this.parseOrError(m));
            return this.dataSource.transaction((manager) => this.applyBatch(manager, at, batch.messages, envelopes));
          },
        );
      } catch (error) {
        const err = asError(error);
        recordSpanFailure(err);
        const kind = this.breakers.classify(err);
        if (kind.kind === 'outage') {
          this.breakers.trip(kind.dependency, kind.reason);
          this.logger.warn(
            { topic, partition: batch.partition, dependency: kind.dependency, reason: kind.reason },
            'kafka: dependency unavailable; the partition waits, no attempt counted',
          );
          continue;
        }
        this.logger.warn(
          { topic, partition: batch.partition, records: batch.messages.length, reason: err.message },
          'kafka: batch failed; applying its records one at a time',
        );
        await this.oneByOne(at, batch.messages, payload);
        return;
      }
      if (outcome.seekTo !== undefined) {
        this.logger.warn(
          { topic, groupId, partition: batch.partition, from: batch.firstOffset(), to: String(outcome.seekTo) },
          'kafka: the stored position is behind the fetched batch; seeking back to it',
        );
        consumer.seek({ topic: batch.topic, partition: batch.partition, offset: outcome.seekTo.toString() });
        return;
      }
      const durationMs = performance.now() - started;
      for (let i = 0; i < outcome.applied; i++) this.options.metrics?.consumed(topic, durationMs);
      this.logger.info(
        {
          topic,
          groupId,
          partition: batch.partition,
          firstOffset: batch.firstOffset(),
          lastOffset: batch.lastOffset(),
          applied: outcome.applied,
          skipped: outcome.skipped,
          durationMs: Math.round(durationMs * 10) / 10,
        },
        'kafka: batch projected',
      );
      payload.resolveOffset(batch.lastOffset());
      // Outside the try: a refused heartbeat (the group rebalancing, its coordinator moved to another broker or
      // stopped) must reach kafkajs, which then finds the coordinator and rejoins. Caught as an outage it would be
      // retried with the same stale coordinator for ever. The batch is stored with its position, so a partition
      // read again after the rejoin changes nothing.
      await heartbeat();
      return;
    }
  }

  /**
   * One transaction: lock the stored position, apply the records at or after it, store the next position.
   * `parsed` holds the envelope of each of `messages` (or why it is not one), in the same order.
   */
  private async applyBatch(
    manager: EntityManager,
    at: PartitionPosition,
    messages: KafkaMessage[],
    parsed: (M | InvalidMessageError)[],
  ): Promise<{ applied: number; skipped: number; seekTo?: bigint }> {
    const stored = await lockConsumerOffset(manager, at);
    const first = BigInt(messages[0]!.offset);
    if (stored !== undefined && stored < first) return { applied: 0, skipped: 0, seekTo: stored };
    const fresh = stored === undefined ? parsed : parsed.filter((_, i) => BigInt(messages[i]!.offset) >= stored);
    const envelopes: M[] = [];
    for (const envelope of fresh) {
      if (envelope instanceof InvalidMessageError) throw envelope;
      envelopes.push(envelope);
    }
    if (envelopes.length > 0) await this.projection.project(manager, envelopes);
    await storeConsumerOffset(manager, at, BigInt(messages.at(-1)!.offset) + 1n);
    for (const envelope of envelopes) {
      this.logger.debug?.(
        { messageId: envelope.messageId, correlationId: envelope.correlationId, messageType: envelope.type },
        'kafka: record projected',
      );
    }
    return { applied: envelopes.length, skipped: messages.length - envelopes.length };
  }

  /** A record's envelope, or an InvalidMessageError (a permanent failure: dead-lettered without retries). */
  private parse(message: KafkaMessage): M {
    const parsed = this.parseOrError(message);
    if (parsed instanceof InvalidMessageError) throw parsed;
    return parsed;
  }

  private parseOrError(message: KafkaMessage): M | InvalidMessageError {
    if (!message.value) return new InvalidMessageError('empty record');
    const parsed = this.projection.catalog.parse(message.value);
    return parsed.ok ? (parsed.message as M) : new InvalidMessageError(parsed.reason);
  }

  /**
   * The fallback for a batch that failed: each record in its own transaction, with the subscription's bounded
   * retries, then the dead letter topic. The position moves past a dead-lettered record in a transaction of its
   * own after the dead letter was written (a crash between the two writes the dead letter again: at least once).
   */
  private async oneByOne(at: PartitionPosition, messages: KafkaMessage[], payload: EachBatchPayload): Promise<void> {
    const { topic, retryDelaysMs } = this.subscription;
    const heartbeat = () => payload.heartbeat();
    for (const message of messages) {
      const offset = BigInt(message.offset);
      const started = performance.now();
      let attempt = 0;
      for (;;) {
        await this.waitWhilePaused(heartbeat);
        if (!payload.isRunning() || payload.isStale()) return;
        try {
          await this.dataSource.transaction(async (manager) => {
            const stored = await lockConsumerOffset(manager, at);
            if (stored !== undefined && stored > offset) return;
            await this.projection.project(manager, [this.parse(message)]);
            await storeConsumerOffset(manager, at, offset + 1n);
          });
          this.options.metrics?.consumed(topic, performance.now() - started);
          break;
        } catch (error) {
          const err = asError(error);
          this.options.metrics?.failed(topic);
          const kind = this.breakers.classify(err);
          if (kind.kind === 'outage') {
            this.breakers.trip(kind.dependency, kind.reason);
            continue;
          }
          const delay = retryDelaysMs[attempt];
          if (this.subscription.deadLetter === false && (kind.kind === 'permanent' || delay === undefined)) {
            // No dead letter topic, and the record must not be skipped: the partition waits on it (its lag grows,
            // the other partitions go on) and it is tried again until it gets through, or until a fix is deployed.
            this.logger.error(
              { topic, partition: at.partition, offset: message.offset, reason: err.message },
              'kafka: record keeps failing and cannot be dead-lettered; trying it again',
            );
            await sleep(retryDelaysMs.at(-1) ?? 1_000);
            await heartbeat();
            continue;
          }
          if (kind.kind === 'permanent' || delay === undefined) {
            await this.deadLetter(message, at.topic, at.partition, err, attempt + 1);
            await this.dataSource.transaction(async (manager) => {
              const stored = await lockConsumerOffset(manager, at);
              if (stored === undefined || stored <= offset) await storeConsumerOffset(manager, at, offset + 1n);
            });
            break;
          }
          this.options.metrics?.retried(topic);
          attempt += 1;
          await sleep(delay);
        }
      }
      payload.resolveOffset(message.offset);
      await heartbeat();
    }
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(describeFailure(error).message);
}
