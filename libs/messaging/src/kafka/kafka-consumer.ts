import { createHash } from 'node:crypto';
import type { Consumer, KafkaMessage } from 'kafkajs';
import { recordSpanFailure, withConsumerSpan, withLogContext } from '@am/observability';
import { describeFailure } from '../amqp/amqp-consumer.js';
import { failpoint } from '../failpoint.js';
import { DependencyBreakers } from '../outage/dependency-breakers.js';
import { DEAD_LETTER_MAX_MESSAGE_BYTES } from '../topology.js';
import { consoleLogger, type MessagingLogger } from '../logger.js';
import type { MessagingMetrics } from '../metrics.js';
import { KafkaHeaders, readHeaders, type KafkaClient } from './kafka-client.js';
import type { KafkaSubscription } from './kafka-subscription.js';
import { faults } from '../faults/fault-switches.js';

export type KafkaRecordHandler = (message: KafkaMessage, partition: number) => Promise<void>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What every consumer group member of the project shares: its options, crash handling, pausing, dead letters. */
export interface KafkaMemberOptions {
  logger?: MessagingLogger;
  metrics?: MessagingMetrics;
  /** The service's breakers; a consumer without them gets its own (no probes: it retries after a backoff). */
  breakers?: DependencyBreakers;
}

/**
 * One member of a consumer group, whatever it does with its records: it never dies silently. A crash makes
 * `isRunning` false (the service's `/health` goes red) until the member has joined its group again, whether kafkajs
 * restarts it or, when kafkajs gives up, this class does. Subclasses say how records are consumed (`run`).
 *
 * An operator's `stop-consumers` fault on its topic (or on every consumer of the service) makes it leave its group
 * (a clean disconnect: the group rebalances, and is Empty when this was its only member; the committed offsets stay,
 * so the lag grows while records arrive); when the fault ends it joins again and catches up. Meanwhile it counts as
 * running for `/health`: an operator's stop is not a crash.
 */
export abstract class KafkaMember {
  protected consumer?: Consumer;
  protected readonly logger: MessagingLogger;
  /** True while consuming; false after a crash until the consumer has joined its group again. */
  private running = false;
  /** Set by `stop()`: the consumer is not restarted any more. */
  protected stopped = false;
  /** Out of its group because an operator's `stop-consumers` fault says so. */
  private suspended = false;
  /** Leaving and joining the group, one after the other. */
  private switching: Promise<void> = Promise.resolve();
  /** Counts the operator's stops and their ends: a crash's restart loop of an earlier one gives up. */
  private switches = 0;
  private unwatchFaults?: () => void;
  private unregister?: () => void;
  protected readonly breakers: DependencyBreakers;

  constructor(
    protected readonly client: KafkaClient,
    readonly subscription: KafkaSubscription,
    protected readonly options: KafkaMemberOptions = {},
  ) {
    this.logger = options.logger ?? consoleLogger;
    this.breakers = options.breakers ?? new DependencyBreakers({ logger: this.logger, metrics: options.metrics });
  }

  /** True while consuming, or while out of its group because an operator stopped it (not a crash). */
  get isRunning(): boolean {
    return this.running || this.suspended;
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.unregister ??= faults.registerConsumer(this.subscription.topic);
    this.unwatchFaults ??= faults.onChange(() => this.followStopSwitch());
    this.suspended = faults.stopping(this.subscription.topic) !== undefined;
    if (!this.suspended) await this.connectAndRun();
  }

  /** Leaves the group when an operator's fault stops this member, joins it again when the fault ends. */
  private followStopSwitch(): void {
    const stop = faults.stopping(this.subscription.topic) !== undefined;
    if (stop === this.suspended || this.stopped) return;
    this.suspended = stop;
    this.switches += 1;
    const { topic, groupId } = this.subscription;
    this.switching = this.switching
      .then(async () => {
        if (stop) {
          await this.leaveGroup();
          this.logger.warn(
            { topic, groupId },
            'kafka: consumer stopped by an operator (stop-consumers); left its group',
          );
        } else if (!this.stopped && !this.suspended && !this.consumer) {
          this.logger.info({ topic, groupId }, 'kafka: the operator stop ended; joining the group again');
          await this.connectAndRun().catch((error: unknown) => {
            this.logger.error({ topic, err: describeFailure(error).message }, 'kafka: rejoin failed; trying again');
            void this.restartAfterCrash(undefined);
          });
        }
      })
      .catch(() => undefined);
  }

  /** Disconnects the current consumer (it leaves its group); its events are ignored from now on. */
  private async leaveGroup(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.running = false;
    await consumer?.disconnect().catch(() => undefined);
  }

  /** Starts consuming on a connected, subscribed consumer (`consumer.run(...)`). */
  protected abstract run(consumer: Consumer): Promise<void>;

  /** How much one fetch may bring (kafkajs' defaults unless a subclass says otherwise). */
  protected fetchSizes(): { maxBytesPerPartition: number; maxBytes: number } | undefined {
    return undefined;
  }

  /** Called when the group gave this member its partitions (topic name → partitions); nothing by default. */
  protected async assigned(_consumer: Consumer, _assignment: Record<string, number[]>): Promise<void> {}

  private async connectAndRun(): Promise<void> {
    // kafkajs would restart some crashes itself and give up on others; this class restarts every one.
    const fetch = this.fetchSizes();
    const consumer = this.client.consumer(this.subscription.groupId, {
      restartOnCrash: false,
      ...(fetch ? { fetch } : {}),
    });
    const { topic, groupId } = this.subscription;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      if (this.consumer !== consumer || this.stopped) return;
      this.running = true;
      // Each join is a rebalance of the group (a member came, went, or restarted): the control room marks it.
      this.options.metrics?.rebalanced?.(topic, groupId);
      this.assigned(consumer, event.payload.memberAssignment).catch((error: unknown) =>
        this.logger.warn(
          { topic, groupId, err: describeFailure(error).message },
          'kafka: after-assignment step failed',
        ),
      );
    });
    consumer.on(consumer.events.CRASH, (event) => {
      if (this.consumer !== consumer) return;
      this.running = false;
      this.logger.error({ topic, groupId, err: String(event.payload.error) }, 'kafka: consumer crashed; restarting it');
      void this.restartAfterCrash(consumer);
    });
    await consumer.connect();
    await consumer.subscribe({
      topic: this.client.name(this.subscription.topic),
      fromBeginning: this.subscription.fromBeginning,
    });
    // A replay topic holds only what an operator replayed, so a group reads it from its first record (also a
    // group such as order-notifications that starts its main topic at the end).
    if (this.subscription.replayTopic) {
      await consumer.subscribe({ topic: this.client.name(this.subscription.replayTopic), fromBeginning: true });
    }
    this.running = true;
    this.consumer = consumer;
    await this.run(consumer);
    // Stopped by an operator while it was joining: out again.
    if (this.suspended && this.consumer === consumer) await this.leaveGroup();
  }

  private async restartAfterCrash(crashed: Consumer | undefined): Promise<void> {
    const switches = this.switches;
    await crashed?.disconnect().catch(() => undefined);
    let delay = 1_000;
    while (!this.stopped) {
      await sleep(delay);
      // Stopped by an operator meanwhile (and maybe started again): the end of the stop joins the group.
      if (this.stopped || this.suspended || this.switches !== switches) return;
      try {
        await this.connectAndRun();
        return;
      } catch (error) {
        this.logger.error(
          { topic: this.subscription.topic, err: describeFailure(error).message },
          'kafka: consumer restart failed; trying again',
        );
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  /**
   * Sends a record to the dead letter topic with the reason, where it came from (`from`: the topic it was read
   * from, with the prefix: the group's topic or its replay topic) and which group failed.
   */
  protected async deadLetter(
    message: KafkaMessage,
    from: string,
    partition: number,
    error: Error,
    attempts: number,
  ): Promise<void> {
    const { topic, deadLetterTopic, groupId } = this.subscription;
    const headers = readHeaders(message.headers);
    const letter = deadLetterRecord(
      message,
      headers,
      {
        [KafkaHeaders.error]: `${error.name}: ${error.message}`.slice(0, 1_000),
        [KafkaHeaders.originalTopic]: from,
        [KafkaHeaders.originalPartition]: String(partition),
        [KafkaHeaders.originalOffset]: message.offset,
        [KafkaHeaders.attempts]: String(attempts),
        [KafkaHeaders.consumerGroup]: this.client.name(groupId),
      },
      this.subscription.deadLetterMaxBytes ?? DEAD_LETTER_MAX_MESSAGE_BYTES,
    );
    await this.client.send([{ topic: deadLetterTopic, ...letter }]);
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
  protected async waitWhilePaused(heartbeat: () => Promise<void>): Promise<void> {
    while (this.breakers.anyOpen) {
      if (this.stopped || this.suspended) {
        throw new Error('kafka: consumer stopping while paused; the record will be redelivered');
      }
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
    this.stopped = true;
    this.running = false;
    this.unwatchFaults?.();
    this.unregister?.();
    this.unwatchFaults = this.unregister = undefined;
    await this.consumer?.disconnect().catch(() => undefined);
  }
}

/**
 * The service's group members started outside its Kafka transport (the audit service's raw reader of the dead letter
 * topic), so that `/health` and the lag metric cover them as they cover the transport's.
 */
export class KafkaMembers {
  private readonly members = new Set<KafkaMember>();

  add(member: KafkaMember): void {
    this.members.add(member);
  }

  delete(member: KafkaMember): void {
    this.members.delete(member);
  }

  /** True when every registered member is consuming (none crashed and waiting to rejoin). */
  get allRunning(): boolean {
    return [...this.members].every((m) => m.isRunning);
  }

  get subscriptions(): KafkaSubscription[] {
    return [...this.members].map((m) => m.subscription);
  }
}

/**
 * A consumer group member that handles one record at a time. Each record is handled, retried in place a bounded
 * number of times, and then sent to the dead letter topic with the error in its headers, so one poison record never
 * blocks its partition. The offset is committed only after the record was handled or dead-lettered (at-least-once).
 * An outage (the database or a broker unavailable) is not the record's fault: the dependency's breaker opens and
 * the partition waits, heartbeating so the group keeps it, until the breaker closes; then the same record is
 * tried again, without counting an attempt.
 */
export class KafkaGroupConsumer extends KafkaMember {
  constructor(
    client: KafkaClient,
    subscription: KafkaSubscription,
    private readonly handle: KafkaRecordHandler,
    options: KafkaMemberOptions = {},
  ) {
    super(client, subscription, options);
  }

  protected async run(consumer: Consumer): Promise<void> {
    await consumer.run({
      autoCommit: true,
      eachMessage: async (payload) =>
        this.process(payload.message, payload.topic, payload.partition, () => payload.heartbeat()),
    });
  }

  /**
   * Handles one record inside its log context (correlation and message id on every line) and a consumer span
   * that continues the trace of the record's `traceparent` header.
   */
  private process(
    message: KafkaMessage,
    from: string,
    partition: number,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    failpoint('kafka-consumer-outside-handler');
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
        () => this.processTraced(message, from, partition, heartbeat),
      ),
    );
  }

  private async processTraced(
    message: KafkaMessage,
    from: string,
    partition: number,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const { topic, retryDelaysMs } = this.subscription;
    const started = performance.now();
    let attempt = 0;
    for (;;) {
      await this.waitWhilePaused(heartbeat);
      try {
        await faults.beforeHandling(topic);
        await this.handle(message, partition);
        const durationMs = performance.now() - started;
        this.options.metrics?.consumed(topic, durationMs);
        // One info line per handled record, with its ids: grepping a correlation id shows an order's whole path.
        const headers = readHeaders(message.headers);
        this.logger.info(
          {
            topic,
            ...(from === this.client.name(topic) ? {} : { from }),
            groupId: this.subscription.groupId,
            partition,
            offset: message.offset,
            messageType: headers[KafkaHeaders.eventType],
            messageId: headers[KafkaHeaders.messageId],
            correlationId: headers[KafkaHeaders.correlationId],
            outcome: 'handled',
            attempts: attempt + 1,
            durationMs: Math.round(durationMs * 10) / 10,
          },
          'kafka: record handled',
        );
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
        if (this.subscription.deadLetter === false && (kind.kind === 'permanent' || delay === undefined)) {
          // The end of the line: nowhere further to send it, and it must not be skipped. It waits and is tried
          // again (heartbeating, so the group keeps the partition) until it gets through.
          this.logger.error(
            { topic, partition, offset: message.offset, reason: err.message },
            'kafka: record keeps failing and cannot be dead-lettered; trying it again',
          );
          await sleep(retryDelaysMs.at(-1) ?? 1_000);
          await heartbeat();
          continue;
        }
        if (kind.kind === 'permanent' || delay === undefined) {
          await this.deadLetter(message, from, partition, err, attempt + 1);
          return;
        }
        this.options.metrics?.retried(topic);
        attempt += 1;
        await sleep(delay);
      }
    }
  }
}

/** Room kept for the record batch's own framing when checking that a dead letter fits its topic. */
const BATCH_OVERHEAD_BYTES = 1_024;
/** A header of the original longer than this is not copied into a dead letter whose body was omitted. */
const MAX_KEPT_HEADER_LENGTH = 256;

/**
 * The dead letter for a record: the original key, body and headers plus the dead-letter headers, when that fits
 * the dead letter topic's `max.message.bytes`. When it does not (a record that just fitted its own topic, or one
 * with huge headers), the body is replaced by a reference to the original (topic, partition, offset, size and
 * SHA-256: the record is still in its topic for as long as the topic keeps it), long headers are dropped, and
 * `x-body-omitted` carries the original size. Either way the dead letter can be written: a record that cannot be
 * dead-lettered would stop its partition for good.
 */
export function deadLetterRecord(
  message: Pick<KafkaMessage, 'key' | 'value'>,
  originalHeaders: Record<string, string>,
  deadLetterHeaders: Record<string, string>,
  maxBytes: number,
): { key: string; value: Buffer; headers: Record<string, string> } {
  const key = message.key?.toString() ?? '';
  const value = message.value ?? Buffer.alloc(0);
  const headers = { ...originalHeaders, ...deadLetterHeaders };
  const size = (h: Record<string, string>, body: Buffer) =>
    Buffer.byteLength(key) +
    body.length +
    Object.entries(h).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v) + 8, 0);
  if (size(headers, value) + BATCH_OVERHEAD_BYTES <= maxBytes) return { key, value, headers };
  const kept = Object.fromEntries(
    Object.entries(originalHeaders).filter(
      ([k, v]) => Buffer.byteLength(k) + Buffer.byteLength(v) <= MAX_KEPT_HEADER_LENGTH,
    ),
  );
  const reference = Buffer.from(
    JSON.stringify({
      bodyOmitted: 'the record was too large to copy into the dead letter topic; read it at its original offset',
      originalTopic: deadLetterHeaders[KafkaHeaders.originalTopic],
      originalPartition: Number(deadLetterHeaders[KafkaHeaders.originalPartition]),
      originalOffset: deadLetterHeaders[KafkaHeaders.originalOffset],
      sizeBytes: value.length,
      sha256: createHash('sha256').update(value).digest('hex'),
    }),
  );
  return {
    key: key.slice(0, MAX_KEPT_HEADER_LENGTH),
    value: reference,
    headers: { ...kept, ...deadLetterHeaders, [KafkaHeaders.bodyOmitted]: String(value.length) },
  };
}
