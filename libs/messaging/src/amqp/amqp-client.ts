import amqp, {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type Message,
  type RecoveringChannelModel,
} from 'amqplib';
import type { Envelope } from '@am/contracts';
import { traceHeaders, type QueueDepth } from '@am/observability';
import {
  BrokerUnavailableError,
  PublishRejectedError,
  UnroutableMessageError,
  UnsafeConfigurationError,
} from '../errors.js';
import { consoleLogger, type MessagingLogger } from '../logger.js';
import { NodeRing, formatAmqpNode, type AmqpNode } from './node-ring.js';

export interface AmqpClientOptions {
  /** amqp://user:password@host:port/vhost, or amqps://… for TLS (docs/security.md#tls) */
  url: string;
  /**
   * The nodes of a cluster (docs/clusters.md): the client connects to the first with the url's user, password and
   * vhost, and when a connection is refused or lost it tries the next, in turn. Absent: the url's host only.
   */
  nodes?: readonly AmqpNode[];
  /**
   * With amqps: the certificate (PEM) of the authority that signed the broker's, when it is not one Node trusts
   * already (the project's local CA). The broker's certificate is always verified, its host name included.
   */
  ca?: string;
  /** Shown in the RabbitMQ management UI as the connection name. */
  connectionName: string;
  logger?: MessagingLogger;
  /** How long a publish waits for its confirm before it fails. */
  confirmTimeoutMs?: number;
  /**
   * Messages are always persistent: every queue of the topology is durable, and a transient message in a durable
   * queue is lost on a broker restart. `false` is refused at start-up.
   */
  persistent?: boolean;
}

export interface PublishOptions {
  headers?: Record<string, unknown>;
  /** Per-message TTL in milliseconds (used by the delayed retry queues, and by requests: their caller's timeout). */
  expirationMs?: number;
  /** Where the answer to this request goes (request/reply): the routing key of the requester's reply queue. */
  replyTo?: string;
}

/** A consumer the client restarts after every reconnection. */
export interface ChannelUser {
  start(model: ChannelModel): Promise<void>;
}

/**
 * One RabbitMQ connection per process with automatic recovery, a confirm channel for publishing, and the
 * consumers that must be restarted on every new connection.
 *
 * Every publish is persistent and `mandatory` and resolves only when the broker confirms it: a negative
 * confirm, a returned (unroutable) message, a missing connection or a blocked connection (memory or disk
 * alarm) all reject, so a caller never believes a message is safe when it is not.
 */
export class AmqpClient {
  private model?: RecoveringChannelModel;
  private channel?: ConfirmChannel;
  /** The connection underneath the recovering model, replaced on every reconnection. */
  private current?: ChannelModel;
  private readonly returned = new Map<string, Message>();
  private readonly users: ChannelUser[] = [];
  private blockedReason: string | null = null;
  private readonly logger: MessagingLogger;
  private closing = false;
  private readonly ring: NodeRing;

  /** The RabbitMQ user this client connects as: the `user-id` of everything it publishes. */
  readonly user: string;

  constructor(private readonly options: AmqpClientOptions) {
    if (options.persistent === false) {
      throw new UnsafeConfigurationError(
        'amqp: non-persistent messages to durable queues are lost when the broker restarts; persistent=false is refused',
      );
    }
    this.logger = options.logger ?? consoleLogger;
    const url = new URL(options.url);
    this.user = decodeURIComponent(url.username) || 'guest';
    this.ring = new NodeRing(
      options.nodes?.length ? options.nodes : [{ host: url.hostname.replace(/^\[|\]$/g, ''), port: portOf(url) }],
    );
  }

  /** The node this client is connected to, or will try next. */
  get node(): AmqpNode {
    return this.ring.current;
  }

  get isConnected(): boolean {
    return this.channel !== undefined;
  }

  get isBlocked(): boolean {
    return this.blockedReason !== null;
  }

  /** Connects (retrying a few times at start-up) and keeps reconnecting for as long as the process lives. */
  async connect(): Promise<void> {
    const model = await amqp.connect(connectTarget(new URL(this.options.url), this.ring), {
      clientProperties: { connection_name: this.options.connectionName },
      // amqplib leaves Nagle's algorithm on: a publish or an ack written behind an unacknowledged frame then waits
      // for the peer's delayed ACK (40 ms on Linux), once per hop of a saga.
      noDelay: true,
      // A node that does not answer (a paused or unreachable host) is given up after 5 s, for the next one.
      timeout: 5_000,
      ...(this.options.ca ? { ca: [this.options.ca] } : {}),
      recovery: {
        initialDelay: 200,
        maxDelay: 5_000,
        initialMaxRetries: 10,
        // Listeners go on before the first attempt, so a blocked or lost connection is never missed.
        waitForConnect: false,
        setup: (m: ChannelModel) => this.setup(m),
      },
    });
    this.model = model;
    // Failover: every refused attempt and every lost connection moves the next attempt to the next node.
    model.on('connect-failed', (error: Error) => {
      if (this.closing) return;
      const failed = this.ring.current;
      const next = this.ring.advance();
      this.logger.warn(
        { err: error.message, node: formatAmqpNode(failed), next: formatAmqpNode(next) },
        'amqp: connect failed',
      );
    });
    model.on('disconnect', (error: Error) => {
      this.channel = undefined;
      this.current = undefined;
      if (this.closing) return;
      const lost = this.ring.current;
      const next = this.ring.advance();
      this.logger.warn(
        { err: error.message, node: formatAmqpNode(lost), next: formatAmqpNode(next) },
        'amqp: connection lost, recovering',
      );
    });
    model.on('blocked', (reason: string) => {
      this.blockedReason = reason;
      this.logger.warn({ reason }, 'amqp: connection blocked by the broker');
    });
    model.on('unblocked', () => {
      this.blockedReason = null;
      this.logger.info({}, 'amqp: connection unblocked');
    });
    model.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'amqp: connection error'));
    await model.waitForConnect();
  }

  private async setup(model: ChannelModel): Promise<void> {
    const channel = await model.createConfirmChannel();
    channel.on('return', (message: Message) => {
      const id = message.properties.messageId as string | undefined;
      if (id) this.returned.set(id, message);
    });
    channel.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'amqp: publish channel error'));
    channel.on('close', () => {
      if (this.channel === channel) this.channel = undefined;
    });
    this.blockedReason = null;
    this.current = model;
    for (const user of this.users) await user.start(model);
    this.channel = channel;
    this.logger.info({ consumers: this.users.length, node: formatAmqpNode(this.ring.current) }, 'amqp: connected');
  }

  /** Registers a consumer: started now if connected, and again after every reconnection. */
  async addChannelUser(user: ChannelUser): Promise<void> {
    this.users.push(user);
    if (this.current && this.channel) await user.start(this.current);
  }

  /** Opens a plain channel on the current connection (for tests and tools). */
  async createChannel(): Promise<Channel> {
    if (!this.current) throw new BrokerUnavailableError('amqp: not connected');
    return this.current.createChannel();
  }

  /**
   * Publishes an envelope and waits for the broker's confirm. The envelope's ids also go into the AMQP
   * properties, so tools that know nothing of the envelope still see them, and the active trace context goes
   * into the `traceparent` header unless `options.headers` brings one (an outbox row carries its own).
   */
  publish(exchange: string, routingKey: string, envelope: Envelope, options: PublishOptions = {}): Promise<void> {
    return this.publishRaw(exchange, routingKey, Buffer.from(JSON.stringify(envelope)), {
      messageId: envelope.messageId,
      type: envelope.type,
      correlationId: envelope.correlationId,
      headers: { ...traceHeaders(), ...options.headers },
      expirationMs: options.expirationMs,
      replyTo: options.replyTo,
    });
  }

  /**
   * Reads the depth of queues with a passive declare (no configure permission needed) on a short-lived channel,
   * for the queue-depth metric. A queue that does not exist is left out.
   */
  async queueDepths(queues: readonly string[]): Promise<QueueDepth[]> {
    const model = this.current;
    if (!model) throw new BrokerUnavailableError('amqp: not connected');
    const depths: QueueDepth[] = [];
    let channel: Channel | undefined;
    try {
      for (const queue of queues) {
        if (!channel) {
          channel = await model.createChannel();
          // A missing queue closes the channel with 404: expected here, not worth a warning.
          channel.on('error', () => undefined);
        }
        try {
          const ok = await channel.checkQueue(queue);
          depths.push({ queue, messages: ok.messageCount, consumers: ok.consumerCount });
        } catch {
          channel = undefined;
        }
      }
    } finally {
      await channel?.close().catch(() => undefined);
    }
    return depths;
  }

  /** Publishes bytes as they are (dead-lettering and replay keep the original body). */
  publishRaw(
    exchange: string,
    routingKey: string,
    body: Buffer,
    props: {
      messageId: string;
      type?: string;
      correlationId?: string;
      headers?: Record<string, unknown> | undefined;
      expirationMs?: number | undefined;
      replyTo?: string | undefined;
    },
  ): Promise<void> {
    const channel = this.channel;
    if (!channel) return Promise.reject(new BrokerUnavailableError('amqp: not connected to RabbitMQ'));
    if (this.blockedReason !== null) {
      return Promise.reject(new BrokerUnavailableError(`amqp: connection blocked (${this.blockedReason})`));
    }
    const timeoutMs = this.options.confirmTimeoutMs ?? 10_000;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new BrokerUnavailableError(`amqp: no confirm within ${timeoutMs} ms`));
      }, timeoutMs);
      try {
        channel.publish(
          exchange,
          routingKey,
          body,
          {
            persistent: true,
            mandatory: true,
            contentType: 'application/json',
            messageId: props.messageId,
            type: props.type,
            correlationId: props.correlationId,
            // The sending account, checked by RabbitMQ against the connection's user (consumers rely on it).
            userId: this.user,
            timestamp: Math.floor(Date.now() / 1000),
            headers: props.headers ?? {},
            expiration: props.expirationMs === undefined ? undefined : String(props.expirationMs),
            replyTo: props.replyTo,
          },
          (error: unknown) => {
            clearTimeout(timer);
            const returned = this.returned.get(props.messageId);
            this.returned.delete(props.messageId);
            if (error) reject(new PublishRejectedError(`amqp: broker refused message ${props.messageId}`));
            else if (returned) {
              const fields = returned.fields as unknown as { replyText?: string };
              reject(new UnroutableMessageError(exchange, routingKey, fields.replyText ?? 'NO_ROUTE'));
            } else resolve();
          },
        );
      } catch (error) {
        clearTimeout(timer);
        reject(new BrokerUnavailableError(`amqp: publish failed: ${(error as Error).message}`));
      }
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.channel = undefined;
    await this.model?.close().catch(() => undefined);
  }
}

export type { ConsumeMessage };

function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'amqps:' ? 5671 : 5672;
}

/**
 * What amqplib connects to: the url's protocol, user, password, vhost and tuning, and the ring's current node,
 * read again on every attempt (amqplib reads these fields each time it opens a connection).
 */
function connectTarget(url: URL, ring: NodeRing): amqp.Options.Connect {
  const query = url.searchParams;
  const numeric = (name: string) => (query.has(name) ? Number(query.get(name)) : undefined);
  return {
    protocol: url.protocol.replace(/:$/, ''),
    get hostname() {
      return ring.current.host;
    },
    get port() {
      return ring.current.port;
    },
    // Both absent: amqplib's default account, as with a url string.
    ...(url.username === '' && url.password === ''
      ? {}
      : { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }),
    // Still escaped: amqplib unescapes the vhost itself ('' is '/').
    vhost: url.pathname.slice(1),
    ...(query.has('heartbeat') ? { heartbeat: numeric('heartbeat') } : {}),
    ...(query.has('frameMax') ? { frameMax: numeric('frameMax') } : {}),
    ...(query.has('channelMax') ? { channelMax: numeric('channelMax') } : {}),
    ...(query.has('locale') ? { locale: query.get('locale')! } : {}),
  };
}
