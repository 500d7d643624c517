import { randomUUID } from 'node:crypto';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { recordSpanFailure, withConsumerSpan, withLogContext } from '@am/observability';
import { InvalidMessageError } from '../errors.js';
import { DependencyBreakers } from '../outage/dependency-breakers.js';
import type { FailureKind } from '../outage/failure-kind.js';
import { consoleLogger, type MessagingLogger } from '../logger.js';
import type { MessagingMetrics } from '../metrics.js';
import { Exchanges, allowedSenders, deadLetterQueue, retryQueue } from '../topology.js';
import type { AmqpClient, ChannelUser } from './amqp-client.js';
import type { AmqpSubscription } from './amqp-subscription.js';
import { faults } from '../faults/fault-switches.js';

/**
 * Does the work for one delivery. Throwing `InvalidMessageError` (or a permanent database error) dead-letters at
 * once; an error that means a dependency is down pauses the consumer and gives the message back; any other error
 * retries.
 */
export type AmqpDeliveryHandler = (message: ConsumeMessage) => Promise<void>;

/**
 * Does the work for several deliveries as one unit (one database transaction): all of it commits or none of it.
 * Used when the subscription has `batch`; a batch that throws is handled again one delivery at a time by the
 * `AmqpDeliveryHandler`, so a poison message still goes alone to its retry and dead letter path.
 */
export type AmqpBatchHandler = (messages: readonly ConsumeMessage[]) => Promise<void>;

/** Headers the retry and dead-letter path writes. `x-retry-count` is ours, not the broker's `x-death`. */
export const RetryHeaders = {
  retryCount: 'x-retry-count',
  error: 'x-error',
  originalQueue: 'x-original-queue',
  firstFailureAt: 'x-first-failure-at',
  lastFailureAt: 'x-last-failure-at',
} as const;

const MAX_REASON_LENGTH = 1_000;
const REQUEUE_PAUSE_MS = 1_000;

/** The reason a handler failed, also when what it threw is not an Error. */
export function describeFailure(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  if (typeof error === 'object' && error !== null && 'message' in error) {
    return { name: 'Error', message: String(error.message) };
  }
  return { name: 'Error', message: String(error) };
}

/**
 * Consumes one queue with manual acknowledgement and bounded prefetch, and applies the subscription's
 * delivery policy:
 * - success: ack after the work (at-least-once) or before it (at-most-once);
 * - failure: republish to the next delayed retry queue with `x-retry-count` + 1, then ack;
 *   after the last retry, or at once for an invalid message, republish to `<queue>-dlq` with the reason;
 * - a failure to republish puts the message back on its queue (nack with requeue): nothing is lost, and a
 *   consumer that cannot reach the broker never pushes a healthy message towards the dead letter queue;
 * - an outage (the database or a broker unavailable, see `classifyFailure`) is not the message's fault: the
 *   dependency's breaker opens, the consumer cancels its subscription, gives back what it holds (nack with
 *   requeue, no retry counted) and subscribes again when the breaker closes;
 * - an operator's `stop-consumers` fault on its queue (or on every consumer of the service) cancels the subscription
 *   the same way: deliveries stay in the queue, those held and not started go back (nack with requeue), those being
 *   handled finish; it subscribes again when the fault ends.
 */
export class AmqpConsumer implements ChannelUser {
  private readonly logger: MessagingLogger;
  private channel?: Channel;
  /** The broker's tag of the current subscription; unset while paused or disconnected. */
  private consumerTag?: string;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly breakers: DependencyBreakers;
  private readonly unsubscribe: () => void;
  private readonly unwatchFaults: () => void;
  private readonly unregister: () => void;
  private stopped = false;
  /** The channel a subscription is being set up on, while the broker has not confirmed it. */
  private subscribingOn?: Channel;
  /** Batch mode: deliveries waiting for a batch, the batches running, and whether a flush is scheduled. */
  private readonly waiting: { channel: Channel; message: ConsumeMessage }[] = [];
  private batchesRunning = 0;
  private flushScheduled = false;

  constructor(
    private readonly client: AmqpClient,
    readonly subscription: AmqpSubscription,
    private readonly handle: AmqpDeliveryHandler,
    private readonly options: {
      logger?: MessagingLogger;
      metrics?: MessagingMetrics;
      /** The service's breakers; a consumer without them gets its own (no probes: it retries after a backoff). */
      breakers?: DependencyBreakers;
      /** Handles deliveries in batches when the subscription has `batch` (at-least-once only). */
      handleBatch?: AmqpBatchHandler;
    } = {},
  ) {
    this.logger = options.logger ?? consoleLogger;
    this.breakers = options.breakers ?? new DependencyBreakers({ logger: this.logger, metrics: options.metrics });
    this.unsubscribe = this.breakers.onChange((open) => (open ? this.pause() : void this.resume()));
    this.unregister = faults.registerConsumer(subscription.queue);
    this.unwatchFaults = faults.onChange(() => {
      if (this.stoppedByOperator) this.pause('stopped by an operator (stop-consumers)');
      else void this.resume();
    });
  }

  /** Whether an operator's `stop-consumers` fault stops this consumer now. */
  private get stoppedByOperator(): boolean {
    return faults.stopping(this.subscription.queue) !== undefined;
  }

  /** Whether deliveries must wait: a dependency is down, or an operator stopped this consumer. */
  private get holding(): boolean {
    return this.breakers.anyOpen || this.stoppedByOperator;
  }

  /** True while subscribed (not paused by an open breaker, not disconnected). */
  get isConsuming(): boolean {
    return this.consumerTag !== undefined;
  }

  async start(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    channel.on('error', (error: Error) =>
      this.logger.warn({ queue: this.subscription.queue, err: error.message }, 'amqp: consumer channel error'),
    );
    channel.on('close', () => {
      if (this.channel === channel) {
        this.channel = undefined;
        this.consumerTag = undefined;
      }
    });
    await channel.prefetch(this.subscription.prefetch);
    this.channel = channel;
    this.consumerTag = undefined;
    // Paused by an open breaker (or stopped by an operator): the subscription starts when it closes (or ends).
    if (!this.holding) await this.subscribe(channel);
  }

  private async subscribe(channel: Channel): Promise<void> {
    // One subscription per channel: a reconnection and a closing breaker may both ask for one.
    if (this.subscribingOn === channel) return;
    this.subscribingOn = channel;
    let consumerTag: string;
    try {
      consumerTag = await this.consumeOn(channel);
    } finally {
      if (this.subscribingOn === channel) this.subscribingOn = undefined;
    }
    if (this.stopped || this.holding || this.channel !== channel) {
      // A breaker opened, an operator stopped it, or the channel was replaced while the broker was confirming.
      channel.cancel(consumerTag).catch(() => undefined);
      return;
    }
    this.consumerTag = consumerTag;
  }

  private async consumeOn(channel: Channel): Promise<string> {
    const { consumerTag } = await channel.consume(
      this.subscription.queue,
      (message) => {
        if (!message) return;
        // A fault switched on for this queue applies per message: its deliveries go one at a time.
        if (this.batching && !faults.touches(this.subscription.queue)) {
          this.waiting.push({ channel, message });
          this.scheduleFlush();
          return;
        }
        this.track(this.deliver(channel, message));
      },
      { noAck: this.subscription.autoAck === true },
    );
    return consumerTag;
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private get batching(): boolean {
    const { batch, delivery, autoAck } = this.subscription;
    return batch !== undefined && this.options.handleBatch !== undefined && delivery === 'at-least-once' && !autoAck;
  }

  /**
   * Pattern: batched consumer. Deliveries that arrive together (in one read of the socket, or while the batches
   * allowed at once are all running) are handled as one batch: up to `batch.maxSize` of them, one transaction,
   * acknowledged each after its commit. Idle, a delivery waits for nothing: the flush runs as soon as the
   * current read of the socket has been handled (`setImmediate`).
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.batchesRunning >= (this.subscription.batch?.concurrency ?? 1)) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const { maxSize, concurrency = 1 } = this.subscription.batch ?? { maxSize: 1 };
    while (this.waiting.length > 0 && this.batchesRunning < concurrency) {
      const batch = this.waiting.splice(0, maxSize);
      this.batchesRunning += 1;
      this.track(
        this.deliverBatch(batch).finally(() => {
          this.batchesRunning -= 1;
          if (this.waiting.length > 0) this.scheduleFlush();
        }),
      );
    }
  }

  private async deliverBatch(entries: { channel: Channel; message: ConsumeMessage }[]): Promise<void> {
    // Deliveries of a channel that has closed meanwhile are back in their queue already: not ours to handle.
    const current = entries.filter((e) => e.channel === this.channel && !this.stopped);
    const channel = this.channel;
    if (!channel || current.length === 0) return;
    if (this.holding) {
      for (const { message } of current) safely(() => channel.nack(message, false, true));
      return;
    }
    const accepted: ConsumeMessage[] = [];
    const refused: Promise<void>[] = [];
    for (const { message } of current) {
      const reason = this.senderRefusal(message);
      if (reason === undefined) accepted.push(message);
      else refused.push(this.deliver(channel, message));
    }
    await Promise.all(refused);
    if (accepted.length === 0) return;
    if (accepted.length === 1) return this.deliver(channel, accepted[0]!);
    const started = performance.now();
    try {
      await this.options.handleBatch!(accepted);
    } catch (error) {
      const kind = this.breakers.classify(error);
      if (kind.kind === 'outage') {
        this.breakers.trip(kind.dependency, kind.reason);
        this.logger.warn(
          { queue: this.subscription.queue, dependency: kind.dependency, reason: kind.reason, size: accepted.length },
          'amqp: dependency unavailable; batch given back, no retry counted',
        );
        for (const message of accepted) safely(() => channel.nack(message, false, true));
        return;
      }
      // Nothing of the batch committed: each delivery is handled again on its own, so only the one at fault
      // takes the retry and dead letter path.
      this.logger.warn(
        { queue: this.subscription.queue, size: accepted.length, err: describeFailure(error).message },
        'amqp: batch failed; handling its messages one by one',
      );
      await Promise.all(accepted.map((message) => this.deliver(channel, message)));
      return;
    }
    for (const message of accepted) {
      safely(() => channel.ack(message));
      this.handled(message, started);
    }
  }

  /** Cancels the subscription: the broker sends nothing more; messages held now are given back as they finish. */
  private pause(why = 'a dependency is unavailable'): void {
    const { channel, consumerTag } = this;
    if (!channel || !consumerTag) return;
    this.consumerTag = undefined;
    channel.cancel(consumerTag).catch(() => undefined);
    this.logger.warn({ queue: this.subscription.queue }, `amqp: consumer paused (${why})`);
  }

  private async resume(): Promise<void> {
    const channel = this.channel;
    if (this.stopped || !channel || this.consumerTag || this.holding) return;
    try {
      await this.subscribe(channel);
      this.logger.info({ queue: this.subscription.queue }, 'amqp: consumer resumed');
    } catch (error) {
      // The channel went away meanwhile: the next connection's start() subscribes.
      this.logger.warn({ queue: this.subscription.queue, err: (error as Error).message }, 'amqp: resume failed');
    }
  }

  /** Stops taking new messages and waits for those in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    this.unwatchFaults();
    this.unregister();
    await this.channel?.close().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Handles one delivery inside its log context (correlation and message id on every line) and a consumer span
   * that continues the trace of the message's `traceparent` header.
   */
  private deliver(channel: Channel, message: ConsumeMessage): Promise<void> {
    return withDeliveryContext(this.subscription.queue, message, () => this.deliverTraced(channel, message));
  }

  private async deliverTraced(channel: Channel, message: ConsumeMessage): Promise<void> {
    const { queue } = this.subscription;
    const started = performance.now();
    if (this.holding && !this.subscription.autoAck) {
      // Delivered before the cancel took effect: give it back untouched, it is not this message's turn yet.
      safely(() => channel.nack(message, false, true));
      return;
    }
    const reason = this.senderRefusal(message);
    if (reason !== undefined) {
      this.options.metrics?.failed(queue);
      await this.fail(channel, message, new InvalidMessageError(reason), { kind: 'permanent', reason });
      return;
    }
    if (this.subscription.delivery === 'at-most-once' || faults.atMostOnce(queue)) {
      // Pattern: at-most-once. The ack goes first; if the work below crashes, the message is gone.
      if (!this.subscription.autoAck) safely(() => channel.ack(message));
      try {
        await faults.beforeHandling(queue);
        await this.handle(message);
        this.handled(message, started);
      } catch (error) {
        this.options.metrics?.failed(queue);
        recordSpanFailure(error);
        this.logger.error(
          { queue, err: describeFailure(error).message },
          'amqp: at-most-once message failed and is dropped',
        );
      }
      return;
    }
    try {
      await faults.beforeHandling(queue);
      await this.handle(message);
      safely(() => channel.ack(message));
      this.handled(message, started);
    } catch (error) {
      this.options.metrics?.failed(queue);
      recordSpanFailure(error);
      const kind = this.breakers.classify(error);
      if (kind.kind === 'outage') {
        // Not the message's fault: pause (listeners cancel the subscription synchronously), then give it back.
        this.breakers.trip(kind.dependency, kind.reason);
        this.logger.warn(
          { queue, dependency: kind.dependency, reason: kind.reason },
          'amqp: dependency unavailable; message given back, no retry counted',
        );
        safely(() => channel.nack(message, false, true));
        return;
      }
      await this.fail(channel, message, error, kind);
    }
  }

  /**
   * Pattern: validated sender. A message not from an account that may send it here is dead-lettered with this
   * reason, never handled (a leaked password of one service must not move another service's money or stock).
   */
  private senderRefusal(message: ConsumeMessage): string | undefined {
    const { queue } = this.subscription;
    const senders = allowedSenders(queue, message.properties.type as string | undefined);
    const sender = message.properties.userId as string | undefined;
    if (!senders || this.subscription.autoAck || (sender && senders.includes(sender))) return undefined;
    return `sender ${sender ?? '(no user-id)'} may not send ${String(message.properties.type)} to ${queue}`;
  }

  /**
   * One info line per handled message (with its ids, so grepping a correlation id shows an order's path through
   * every service), and the consumed metric.
   */
  private handled(message: ConsumeMessage, started: number): void {
    const { queue } = this.subscription;
    const durationMs = performance.now() - started;
    this.options.metrics?.consumed(queue, durationMs);
    const props = message.properties;
    this.logger.info(
      {
        queue,
        messageType: props.type as string | undefined,
        messageId: props.messageId as string | undefined,
        correlationId: props.correlationId as string | undefined,
        outcome: 'handled',
        durationMs: Math.round(durationMs * 10) / 10,
      },
      'amqp: message handled',
    );
  }

  private async fail(channel: Channel, message: ConsumeMessage, error: unknown, kind: FailureKind): Promise<void> {
    const { queue, retryDelaysMs } = this.subscription;
    const headers = { ...(message.properties.headers ?? {}) } as Record<string, unknown>;
    const retries = Number(headers[RetryHeaders.retryCount] ?? 0) || 0;
    const now = new Date().toISOString();
    const permanent = kind.kind === 'permanent';
    const failure = describeFailure(error);
    const reason = `${failure.name}: ${failure.message}`.slice(0, MAX_REASON_LENGTH);
    headers[RetryHeaders.error] = reason;
    headers[RetryHeaders.originalQueue] = queue;
    headers[RetryHeaders.firstFailureAt] ??= now;
    headers[RetryHeaders.lastFailureAt] = now;
    const props = {
      messageId: (message.properties.messageId as string | undefined) ?? randomUUID(),
      type: message.properties.type as string | undefined,
      correlationId: message.properties.correlationId as string | undefined,
    };
    const delay = retryDelaysMs[retries];
    if (this.subscription.deadLetter === false && (permanent || delay === undefined)) {
      // The end of the line: keep the message, try again after a pause (never acknowledged as if handled).
      this.logger.error({ queue, messageId: props.messageId, reason }, 'amqp: message failed; requeued');
      await new Promise((resolve) => setTimeout(resolve, REQUEUE_PAUSE_MS));
      safely(() => channel.nack(message, false, true));
      return;
    }
    try {
      if (!permanent && delay !== undefined) {
        headers[RetryHeaders.retryCount] = retries + 1;
        await this.client.publishRaw(Exchanges.retries, retryQueue(queue, retries + 1), message.content, {
          ...props,
          headers,
          expirationMs: delay,
        });
        this.options.metrics?.retried(queue);
        this.logger.warn(
          { queue, messageId: props.messageId, retry: retries + 1, reason },
          'amqp: message will be retried',
        );
      } else {
        headers[RetryHeaders.retryCount] = retries;
        await this.client.publishRaw(Exchanges.deadLetters, deadLetterQueue(queue), message.content, {
          ...props,
          headers,
        });
        this.options.metrics?.deadLettered(queue);
        this.logger.error({ queue, messageId: props.messageId, retries, reason }, 'amqp: message dead-lettered');
      }
      safely(() => channel.ack(message));
    } catch (publishError) {
      // The message could not be moved: give it back to its queue. Not lost, and not counted as a retry.
      this.logger.warn(
        { queue, err: (publishError as Error).message },
        'amqp: could not move failed message; requeued',
      );
      safely(() => channel.nack(message, false, true));
    }
  }
}

/**
 * Runs `work` for one delivery inside its log context (correlation and message id on every line) and a consumer
 * span that continues the trace of the message's `traceparent` header. A batch runs each of its messages' work in
 * its own.
 */
export function withDeliveryContext<T>(queue: string, message: ConsumeMessage, work: () => Promise<T>): Promise<T> {
  const props = message.properties;
  const messageId = props.messageId as string | undefined;
  const correlationId = props.correlationId as string | undefined;
  const type = props.type as string | undefined;
  return withLogContext({ correlationId, messageId, messageType: type, source: queue }, () =>
    withConsumerSpan(
      `${queue} process`,
      props.headers,
      {
        'messaging.system': 'rabbitmq',
        'messaging.operation.type': 'process',
        'messaging.destination.name': queue,
        ...(messageId ? { 'messaging.message.id': messageId } : {}),
        ...(correlationId ? { 'messaging.message.conversation_id': correlationId } : {}),
        ...(type ? { 'app.message.type': type } : {}),
      },
      work,
    ),
  );
}

/** Acks and nacks throw when the channel closed meanwhile; the broker then redelivers, which is what we want. */
function safely(action: () => void): void {
  try {
    action();
  } catch {
    // channel closed: the message goes back to the queue by itself
  }
}
