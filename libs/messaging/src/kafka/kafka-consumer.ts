import type { Consumer, KafkaMessage } from 'kafkajs';
import { recordSpanFailure, withConsumerSpan, withLogContext } from '@am/observability';
import { describeFailure } from '../amqp/amqp-consumer.js';
import { DependencyBreakers } from '../outage/dependency-breakers.js';
import { consoleLogger, type MessagingLogger } from '../logger.js';
import type { MessagingMetrics } from '../metrics.js';
import { KafkaHeaders, readHeaders, type KafkaClient } from './kafka-client.js';
import type { KafkaSubscription } from './kafka-subscription.js';

export type KafkaRecordHandler = (message: KafkaMessage, partition: number) => Promise<void>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A consumer group member. Each record is handled, retried in place a bounded number of times, and then
 * sent to the dead letter topic with the error in its headers, so one poison record never blocks its
 * partition. The offset is committed only after the record was handled or dead-lettered (at-least-once).
 * An outage (the database or a broker unavailable) is not the record's fault: the dependency's breaker opens and
 * the partition waits, heartbeating so the group keeps it, until the breaker closes; then the same record is
 * tried again, without counting an attempt.
 */
export class KafkaGroupConsumer {
  private consumer?: Consumer;
  private readonly logger: MessagingLogger;
  private running = false;
  private readonly breakers: DependencyBreakers;

  constructor(
    private readonly client: KafkaClient,
    readonly subscription: KafkaSubscription,
    private readonly handle: KafkaRecordHandler,
    private readonly options: {
      logger?: MessagingLogger;
      metrics?: MessagingMetrics;
      /** The service's breakers; a consumer without them gets its own (no probes: it retries after a backoff). */
      breakers?: DependencyBreakers;
    } = {},
  ) {
    this.logger = options.logger ?? consoleLogger;
    this.breakers = options.breakers ?? new DependencyBreakers({ logger: this.logger, metrics: options.metrics });
  }

  get isRunning(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    const consumer = this.client.consumer(this.subscription.groupId);
    consumer.on(consumer.events.CRASH, (event) =>
      this.logger.warn(
        { topic: this.subscription.topic, err: String(event.payload.error) },
        'kafka: consumer crashed, restarting',
      ),
    );
    await consumer.connect();
    await consumer.subscribe({
      topic: this.client.name(this.subscription.topic),
      fromBeginning: this.subscription.fromBeginning,
    });
    this.running = true;
    this.consumer = consumer;
    await consumer.run({
      autoCommit: true,
      eachMessage: async (payload) => this.process(payload.message, payload.partition, () => payload.heartbeat()),
    });
  }

  /**
   * Handles one record inside its log context (correlation and message id on every line) and a consumer span
   * that continues the trace of the record's `traceparent` header.
   */
  private process(message: KafkaMessage, partition: number, heartbeat: () => Promise<void>): Promise<void> {
    const { topic, groupId } = this.subscription;
    const headers = readHeaders(message.headers);
    const correlationId = headers[KafkaHeaders.correlationId];
    const messageId = headers[KafkaHeaders.messageId];
    const type = headers[KafkaHeaders.eventType];
    return withLogContext({ correlationId, messageId, messageType: type, source: topic }, () =>
      withConsumerSpan(
        `${topic} process`,
        headers,
        {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': topic,
          'messaging.consumer.group.name': groupId,
          'messaging.destination.partition.id': String(partition),
          'messaging.kafka.offset': Number(message.offset),
          ...(messageId ? { 'messaging.message.id': messageId } : {}),
          ...(correlationId ? { 'messaging.message.conversation_id': correlationId } : {}),
          ...(type ? { 'app.message.type': type } : {}),
        },
        () => this.processTraced(message, partition, heartbeat),
      ),
    );
  }

  private async processTraced(message: KafkaMessage, partition: number, heartbeat: () => Promise<void>): Promise<void> {
    const { topic, retryDelaysMs } = this.subscription;
    const started = performance.now();
    let attempt = 0;
    for (;;) {
      await this.waitWhilePaused(heartbeat);
      try {
        await this.handle(message, partition);
        this.options.metrics?.consumed(topic, performance.now() - started);
        return;
      } catch (error) {
        const err: Error = error instanceof Error ? error : new Error(describeFailure(error).message);
        this.options.metrics?.failed(topic);
        recordSpanFailure(err);
        const kind = this.breakers.classify(err);
        if (kind.kind === 'outage') {
          this.breakers.trip(kind.dependency, kind.reason);
          this.logger.warn(
            { topic, partition, offset: message.offset, dependency: kind.dependency, reason: kind.reason },
            'kafka: dependency unavailable; the partition waits, no attempt counted',
          );
          continue;
        }
        const delay = retryDelaysMs[attempt];
        if (kind.kind === 'permanent' || delay === undefined) {
          await this.deadLetter(message, partition, err, attempt + 1);
          return;
        }
        this.options.metrics?.retried(topic);
        attempt += 1;
        await sleep(delay);
      }
    }
  }

  private async deadLetter(message: KafkaMessage, partition: number, error: Error, attempts: number): Promise<void> {
    const { topic, deadLetterTopic } = this.subscription;
    const headers = readHeaders(message.headers);
    await this.client.send([
      {
        topic: deadLetterTopic,
        key: message.key?.toString() ?? '',
        value: message.value ?? Buffer.alloc(0),
        headers: {
          ...headers,
          [KafkaHeaders.error]: `${error.name}: ${error.message}`.slice(0, 1_000),
          [KafkaHeaders.originalTopic]: this.client.name(topic),
          [KafkaHeaders.originalPartition]: String(partition),
          [KafkaHeaders.originalOffset]: message.offset,
          [KafkaHeaders.attempts]: String(attempts),
        },
      },
    ]);
    this.options.metrics?.deadLettered(topic);
    this.logger.error(
      { topic, partition, offset: message.offset, messageId: headers[KafkaHeaders.messageId], reason: error.message },
      'kafka: record dead-lettered',
    );
  }

  /**
   * Waits while any breaker of the service is open. Heartbeats keep the partition assigned to this member; a
   * heartbeat refused because the group rebalances ends the wait with that error, and kafkajs hands the record
   * to whoever owns the partition next (the offset was not committed: nothing is lost).
   */
  private async waitWhilePaused(heartbeat: () => Promise<void>): Promise<void> {
    while (this.breakers.anyOpen) {
      if (!this.running) throw new Error('kafka: consumer stopping while paused; the record will be redelivered');
      await Promise.race([this.breakers.whenAllClosed(), sleep(1_000)]);
      try {
        await heartbeat();
      } catch (error) {
        const kind = this.breakers.classify(error);
        if (kind.kind !== 'outage') throw error;
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
