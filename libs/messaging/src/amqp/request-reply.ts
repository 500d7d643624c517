import { randomUUID } from 'node:crypto';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { MessageCatalog, type Envelope, type MessageDefinition, type MessageOf } from '@am/contracts';
import { BrokerUnavailableError, UnroutableMessageError } from '../errors.js';
import { consoleLogger, type MessagingLogger } from '../logger.js';
import type { MessagingMetrics } from '../metrics.js';
import {
  Exchanges,
  queryQueues,
  queryRoles,
  replyQueueName,
  replyQueuePattern,
  type ServiceName,
} from '../topology.js';
import type { AmqpClient, ChannelUser } from './amqp-client.js';
import { describeFailure, withDeliveryContext } from './amqp-consumer.js';

/** No reply came within the request's timeout (the caller answers 504). */
export class RequestTimeoutError extends Error {
  override name = 'RequestTimeoutError';
  constructor(
    readonly queue: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer from ${queue} within ${timeoutMs} ms`);
  }
}

interface Pending {
  resolve(reply: Envelope): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  catalog: MessageCatalog;
  responder: ServiceName;
}

/** How many timed-out correlation ids the requester remembers, to tell a late reply from an unknown one. */
const REMEMBERED_TIMEOUTS = 10_000;

/**
 * Pattern: request/reply over RabbitMQ under least privilege (docs/request-reply.md). Each process has its own
 * reply queue, `<service>.replies.<instance id>`: exclusive (only this connection reads it), auto-delete (gone
 * with the process), declared by the process itself (the only thing a service may declare) and bound to the
 * `replies` exchange under its own name. A request carries that name as `reply-to`, a fresh correlation id, and a
 * per-message TTL equal to the timeout, so a request nobody took in time expires in its queue.
 *
 * Pending requests are kept by correlation id and fail at the timeout; a reply that arrives after it, or for no
 * request of this process, or from another account than the queue's responder (`user-id`, which RabbitMQ checks
 * against the sending connection), or that fails validation is dropped and counted (`replies_dropped_total`).
 */
export class AmqpRequester implements ChannelUser {
  readonly replyQueue: string;
  private channel?: Channel;
  private readonly pending = new Map<string, Pending>();
  private readonly timedOut = new Set<string>();
  private readonly logger: MessagingLogger;

  constructor(
    private readonly client: AmqpClient,
    private readonly options: {
      service: ServiceName;
      /** Default: a random UUID, one per process. */
      instanceId?: string;
      logger?: MessagingLogger;
      metrics?: MessagingMetrics;
    },
  ) {
    this.replyQueue = replyQueueName(options.service, options.instanceId ?? randomUUID());
    this.logger = options.logger ?? consoleLogger;
  }

  /** True while the reply queue is declared and consumed on the current connection. */
  get isReady(): boolean {
    return this.channel !== undefined;
  }

  /** Declares, binds and consumes the reply queue: at start and after every reconnection (it died with the last). */
  async start(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    channel.on('error', (error: Error) =>
      this.logger.warn({ queue: this.replyQueue, err: error.message }, 'amqp: reply channel error'),
    );
    channel.on('close', () => {
      if (this.channel === channel) this.channel = undefined;
    });
    await channel.assertQueue(this.replyQueue, { exclusive: true, autoDelete: true, durable: false });
    await channel.bindQueue(this.replyQueue, Exchanges.replies, this.replyQueue);
    // No ack: a reply is worth something only to this process, now; the queue dies with the connection anyway.
    await channel.consume(this.replyQueue, (message) => message && this.onReply(message), { noAck: true });
    this.channel = channel;
  }

  /**
   * Sends `request` to the query queue `queue` (through `queries`) and waits for its reply, validated with
   * `reply`'s definition, at most `timeoutMs`. Rejects with {@link RequestTimeoutError} at the timeout, with
   * `BrokerUnavailableError` when the request cannot be sent.
   */
  async request<D extends MessageDefinition>(
    queue: string,
    request: Envelope,
    reply: D,
    timeoutMs: number,
  ): Promise<MessageOf<D>> {
    const roles = queryRoles(queue);
    if (!roles) throw new Error(`${queue} is not a query queue of the topology`);
    if (!this.channel) throw new BrokerUnavailableError(`amqp: reply queue ${this.replyQueue} not ready`);
    const correlationId = request.correlationId;
    if (this.pending.has(correlationId)) throw new Error(`request ${correlationId} is already pending`);
    const answer = new Promise<Envelope>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        this.remember(correlationId);
        this.options.metrics?.requestTimedOut?.(queue);
        reject(new RequestTimeoutError(queue, timeoutMs));
      }, timeoutMs);
      this.pending.set(correlationId, {
        resolve,
        reject,
        timer,
        catalog: new MessageCatalog([reply]),
        responder: roles.responder,
      });
    });
    // Not awaited before `answer`: the timeout may come first (a blocked broker holds the confirm), and the
    // caller must get it then. A failed publish fails the request at once.
    void this.client
      .publish(Exchanges.queries, queue, request, { replyTo: this.replyQueue, expirationMs: timeoutMs })
      .then(() => this.options.metrics?.published(Exchanges.queries))
      .catch((error: unknown) => this.settle(correlationId)?.reject(error as Error));
    return (await answer) as MessageOf<D>;
  }

  private settle(correlationId: string): Pending | undefined {
    const pending = this.pending.get(correlationId);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.pending.delete(correlationId);
    return pending;
  }

  private remember(correlationId: string): void {
    this.timedOut.add(correlationId);
    if (this.timedOut.size > REMEMBERED_TIMEOUTS) {
      const oldest = this.timedOut.values().next().value;
      if (oldest !== undefined) this.timedOut.delete(oldest);
    }
  }

  private onReply(message: ConsumeMessage): void {
    const correlationId = message.properties.correlationId as string | undefined;
    const pending = correlationId === undefined ? undefined : this.pending.get(correlationId);
    if (!pending || correlationId === undefined) {
      const late = correlationId !== undefined && this.timedOut.delete(correlationId);
      return this.drop(late ? 'late' : 'unknown', message);
    }
    // Pattern: validated sender. Only the queue's responder may answer; RabbitMQ checked user-id on the way in.
    const sender = message.properties.userId as string | undefined;
    if (sender !== pending.responder) return this.drop('sender', message);
    const parsed = pending.catalog.parse(message.content);
    if (!parsed.ok) return this.drop('invalid', message, parsed.reason);
    if (parsed.message.correlationId !== correlationId) return this.drop('invalid', message, 'correlation ids differ');
    this.settle(correlationId)?.resolve(parsed.message);
  }

  private drop(reason: 'late' | 'unknown' | 'sender' | 'invalid', message: ConsumeMessage, detail?: string): void {
    this.options.metrics?.replyDropped?.(reason);
    this.logger.warn(
      {
        queue: this.replyQueue,
        reason,
        detail,
        sender: message.properties.userId as string | undefined,
        correlationId: message.properties.correlationId as string | undefined,
      },
      'amqp: reply dropped',
    );
  }

  /** Fails every pending request (the process is stopping). */
  async stop(): Promise<void> {
    for (const id of [...this.pending.keys()]) {
      this.settle(id)?.reject(new BrokerUnavailableError('amqp: requester stopping'));
    }
    await this.channel?.close().catch(() => undefined);
  }
}

/** What a responder does with one valid request: the reply envelope (its `correlationId` is the request's). */
export type QueryAnswer = (request: Envelope) => Promise<Envelope>;

/** A query queue and how its service answers it, declared beside the handler (STYLE 8). */
export interface QueryResponder {
  queue: string;
  /** Requests in flight at once. */
  prefetch: number;
  /** The request types this queue takes. */
  catalog: MessageCatalog;
}

/**
 * The responder's side of request/reply: consumes a query queue and publishes each answer to `replies` with the
 * request's `reply-to` as routing key and its correlation id. A request is answered at most once and never
 * retried: one that is invalid, or from an account that may not ask (`user-id`), or whose `reply-to` is not a
 * requester's reply queue, is dropped; one whose answer fails is dropped too (the caller times out, and a retry
 * would answer a caller that has given up); an answer whose requester has gone (unroutable) is dropped.
 */
export class AmqpResponder implements ChannelUser {
  private channel?: Channel;
  private consumerTag?: string;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly logger: MessagingLogger;
  private readonly replyTo: RegExp[];

  constructor(
    private readonly client: AmqpClient,
    readonly responder: QueryResponder,
    private readonly answer: QueryAnswer,
    private readonly options: { logger?: MessagingLogger; metrics?: MessagingMetrics } = {},
  ) {
    if (!queryQueues.some((q) => q.name === responder.queue)) {
      throw new Error(`${responder.queue} is not a query queue of the topology`);
    }
    this.logger = options.logger ?? consoleLogger;
    this.replyTo = (queryRoles(responder.queue)?.requesters ?? []).map((s) => new RegExp(replyQueuePattern(s)));
  }

  async start(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    channel.on('error', (error: Error) =>
      this.logger.warn({ queue: this.responder.queue, err: error.message }, 'amqp: responder channel error'),
    );
    channel.on('close', () => {
      if (this.channel === channel) this.channel = undefined;
    });
    await channel.prefetch(this.responder.prefetch);
    this.channel = channel;
    ({ consumerTag: this.consumerTag } = await channel.consume(this.responder.queue, (message) => {
      if (!message) return;
      const work = withDeliveryContext(this.responder.queue, message, () => this.deliver(channel, message));
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    }));
  }

  private async deliver(channel: Channel, message: ConsumeMessage): Promise<void> {
    const { queue } = this.responder;
    const started = performance.now();
    const sender = message.properties.userId as string | undefined;
    const replyTo = message.properties.replyTo as string | undefined;
    const requesters = queryRoles(queue)?.requesters ?? [];
    let refusal: string | undefined;
    if (!sender || !requesters.includes(sender as ServiceName)) refusal = `sender ${sender ?? '(none)'} may not ask`;
    else if (!replyTo || !this.replyTo.some((r) => r.test(replyTo))) refusal = `reply-to ${replyTo} is no reply queue`;
    const parsed = refusal === undefined ? this.responder.catalog.parse(message.content) : undefined;
    if (parsed && !parsed.ok) refusal = parsed.reason;
    if (refusal !== undefined || !parsed?.ok || !replyTo) {
      this.options.metrics?.failed(queue);
      this.logger.warn({ queue, reason: refusal }, 'amqp: request dropped, not answered');
      return safely(() => channel.ack(message));
    }
    try {
      const reply = await this.answer(parsed.message);
      await this.client.publish(Exchanges.replies, replyTo, reply);
      this.options.metrics?.consumed(queue, performance.now() - started);
      this.options.metrics?.published(Exchanges.replies);
    } catch (error) {
      this.options.metrics?.failed(queue);
      const gone = error instanceof UnroutableMessageError;
      this.logger.warn(
        { queue, replyTo, err: describeFailure(error).message },
        gone ? 'amqp: requester gone, answer dropped' : 'amqp: request failed, not answered',
      );
    }
    safely(() => channel.ack(message));
  }

  /** Takes no more requests, answers those in hand, then closes its channel. */
  async stop(): Promise<void> {
    if (this.channel && this.consumerTag) await this.channel.cancel(this.consumerTag).catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    await this.channel?.close().catch(() => undefined);
  }
}

function safely(action: () => void): void {
  try {
    action();
  } catch {
    // the channel closed: the broker gives the request to another consumer, or lets it expire
  }
}
