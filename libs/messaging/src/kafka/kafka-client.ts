import {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type Consumer,
  type IHeaders,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import type { Envelope } from '@am/contracts';
import { traceHeaders, type ConsumerLag } from '@am/observability';
import { UnsafeConfigurationError } from '../errors.js';
import { consoleLogger, type MessagingLogger } from '../logger.js';
import { topicName } from '../topology.js';

/** A principal's SASL/SCRAM-SHA-256 login (docs/security.md: one principal per service, and the admin). */
export interface KafkaCredentials {
  username: string;
  password: string;
  /** SCRAM-SHA-256 unless told otherwise (Strimzi's users, on the Kubernetes ha overlay, are SCRAM-SHA-512). */
  mechanism?: 'scram-sha-256' | 'scram-sha-512';
}

export interface KafkaClientOptions {
  /** host:port,host:port */
  brokers: string[];
  clientId: string;
  /** Who the client is to the broker; `null` only to show that an unauthenticated client is refused. */
  credentials: KafkaCredentials | null;
  /** Prepended to every topic and group name, so that tests and experiments stay apart from a dev stack. */
  prefix?: string;
  /**
   * TLS to the brokers (SASL_SSL listeners; docs/security.md#tls), with `ca` the certificate (PEM) of the authority
   * that signed theirs when Node does not trust it already. The brokers' certificates are always verified.
   */
  tls?: { ca?: string };
  logger?: MessagingLogger;
  /** Only for demonstrating what breaks; a producer without idempotence refuses to start. */
  idempotent?: boolean;
  /** How long a send may wait for the broker's acknowledgement before the producer is replaced (default 30 s). */
  sendTimeoutMs?: number;
}

/** kafkajs's SASL settings for a login (its types want the mechanism as a literal). */
function saslOptions({ username, password, mechanism }: KafkaCredentials): SASLOptions {
  return mechanism === 'scram-sha-512'
    ? { mechanism: 'scram-sha-512', username, password }
    : { mechanism: 'scram-sha-256', username, password };
}

/** A send that had no acknowledgement in time: the broker (or the connection to it) is away. */
export class KafkaSendTimeoutError extends Error {
  override name = 'KafkaSendTimeoutError';
}

// kafkajs 2.2.4 computes a negative client-side throttle delay when it is not throttled, which Node 24 reports
// as a TimeoutNegativeWarning (the timer fires after 1 ms, as intended). Drop that one warning, keep all others.
const nodeWarningPrinters = process.listeners('warning');
if (!nodeWarningPrinters.some((l) => l.name === 'dropKafkajsTimeoutWarning')) {
  process.removeAllListeners('warning');
  process.on('warning', function dropKafkajsTimeoutWarning(warning: Error) {
    if (warning.name === 'TimeoutNegativeWarning') return;
    for (const print of nodeWarningPrinters) print(warning);
  });
}

/** The record headers every envelope carries on Kafka (DESIGN.md). */
export const KafkaHeaders = {
  eventType: 'event-type',
  correlationId: 'correlation-id',
  messageId: 'message-id',
  traceparent: 'traceparent',
  error: 'x-error',
  originalTopic: 'x-original-topic',
  originalPartition: 'x-original-partition',
  originalOffset: 'x-original-offset',
  attempts: 'x-attempts',
  consumerGroup: 'x-consumer-group',
  /** Set on a dead letter whose body was too large to copy: the original's size in bytes. */
  bodyOmitted: 'x-body-omitted',
} as const;

export interface KafkaRecord {
  topic: string;
  key: string;
  value: Buffer | string;
  headers: Record<string, string>;
}

/**
 * A record for an envelope, with the envelope headers of DESIGN.md. `traceparent` is the active trace context's
 * unless `extra` brings one (an outbox row carries the context of the transaction that wrote it).
 */
export function recordFor(
  topic: string,
  key: string,
  envelope: Envelope,
  extra: Record<string, string> = {},
): KafkaRecord {
  return {
    topic,
    key,
    value: JSON.stringify(envelope),
    headers: {
      [KafkaHeaders.eventType]: envelope.type,
      [KafkaHeaders.correlationId]: envelope.correlationId,
      [KafkaHeaders.messageId]: envelope.messageId,
      ...traceHeaders(),
      ...extra,
    },
  };
}

/** Reads kafkajs headers (Buffers, arrays or undefined) as plain strings. */
export function readHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}

/**
 * The project's door to Kafka: one kafkajs instance, an idempotent producer (acks=all, retries, no
 * duplicates from its own retries), consumers in groups, and an admin client. kafkajs is in maintenance
 * mode, so nothing outside libs/messaging touches it directly.
 */
export class KafkaClient {
  readonly kafka: Kafka;
  readonly prefix: string;
  private producer?: Promise<Producer>;
  private producerConnected = false;
  private closed = false;
  private lagAdmin?: Promise<Admin>;
  private readonly logger: MessagingLogger;

  constructor(private readonly options: KafkaClientOptions) {
    if (options.idempotent === false) {
      throw new UnsafeConfigurationError(
        'kafka: the producer must be idempotent (acks=all without duplicates on retry); idempotent=false is refused',
      );
    }
    this.prefix = options.prefix ?? '';
    this.logger = options.logger ?? consoleLogger;
    const logger = this.logger;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      ...(options.credentials ? { sasl: saslOptions(options.credentials) } : {}),
      ...(options.tls ? { ssl: options.tls.ca ? { ca: [options.tls.ca] } : true } : {}),
      connectionTimeout: 3_000,
      retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log }) => {
          const { message, ...rest } = log;
          if (level <= logLevel.ERROR) logger.error({ kafka: rest }, `kafkajs: ${message}`);
          else logger.warn({ kafka: rest }, `kafkajs: ${message}`);
        },
    });
  }

  /** The prefixed name of a topic or consumer group. */
  name(topicOrGroup: string): string {
    return topicName(this.prefix, topicOrGroup);
  }

  get isProducerConnected(): boolean {
    return this.producerConnected;
  }

  async connectProducer(): Promise<Producer> {
    this.producer ??= this.newProducer();
    const pending = this.producer;
    try {
      return await pending;
    } catch (error) {
      if (this.producer === pending) this.producer = undefined;
      throw error;
    }
  }

  private async newProducer(): Promise<Producer> {
    // Idempotent producers keep retrying (kafkajs warns that bounded retries weaken the guarantee): while the
    // broker is away, a send waits rather than fails, and the outbox rows stay unsent until it is back.
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    producer.on(producer.events.CONNECT, () => (this.producerConnected = true));
    producer.on(producer.events.DISCONNECT, () => (this.producerConnected = false));
    await producer.connect();
    this.producerConnected = true;
    return producer;
  }

  /**
   * Sends records (topic names unprefixed) with acks=all and waits for the broker's acknowledgement.
   *
   * A send that fails, or that has no answer within `sendTimeoutMs` (a producer can hang on a connection that
   * died with a broker restart), throws, and the producer is replaced: after a failure its sequence numbers
   * are in doubt, and a new producer id starts clean. The caller (the outbox relay) sends the rows again; a
   * record the old producer did write arrives twice, and consumers drop the copy by its message id.
   */
  async send(records: readonly KafkaRecord[]): Promise<void> {
    if (records.length === 0) return;
    const pending = (this.producer ??= this.newProducer());
    const byTopic = new Map<string, KafkaRecord[]>();
    for (const record of records) {
      const list = byTopic.get(record.topic) ?? [];
      list.push(record);
      byTopic.set(record.topic, list);
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const producer = await pending;
      const sent = producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, list]) => ({
          topic: this.name(topic),
          messages: list.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
        })),
      });
      const timeoutMs = this.options.sendTimeoutMs ?? 30_000;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new KafkaSendTimeoutError(`kafka: no acknowledgement within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      sent.catch(() => undefined);
      await Promise.race([sent, deadline]);
    } catch (error) {
      this.replaceProducer(pending, error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private replaceProducer(failed: Promise<Producer>, error: unknown): void {
    if (this.producer !== failed || this.closed) return;
    this.producer = undefined;
    this.producerConnected = false;
    this.logger.warn(
      { err: error instanceof Error ? error.message : String(error) },
      'kafka: send failed; the producer is replaced by a new one',
    );
    void failed.then((p) => p.disconnect()).catch(() => undefined);
    // Connect the next one now, so /health turns green as soon as the broker answers, not at the next send.
    const next = this.connectProducer();
    next.catch(() => undefined);
  }

  /**
   * A consumer in group `groupId` (unprefixed). With `restartOnCrash: false` kafkajs never restarts it after a
   * crash: the caller does (the project's group consumer, which also reports the crash on `/health`).
   * `fetch`: how much one fetch may bring, per partition and in all (kafkajs' defaults: 1 MiB and 10 MiB).
   */
  consumer(
    groupId: string,
    options: { restartOnCrash?: boolean; fetch?: { maxBytesPerPartition: number; maxBytes: number } } = {},
  ): Consumer {
    return this.kafka.consumer({
      groupId: this.name(groupId),
      ...(options.restartOnCrash === false ? { retry: { retries: 5, restartOnFailure: async () => false } } : {}),
      ...options.fetch,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 10_000,
      allowAutoTopicCreation: false,
    });
  }

  admin(): Admin {
    return this.kafka.admin();
  }

  /**
   * How far each group is behind on each partition of its topic (names unprefixed): the end offset minus the
   * group's committed offset (the partition's start when the group has committed nothing), for the lag metric.
   */
  async consumerLag(groups: readonly { topic: string; groupId: string }[]): Promise<ConsumerLag[]> {
    if (groups.length === 0) return [];
    this.lagAdmin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    const pending = this.lagAdmin;
    const admin = await pending.catch((error: unknown) => {
      if (this.lagAdmin === pending) this.lagAdmin = undefined;
      throw error;
    });
    const lags: ConsumerLag[] = [];
    for (const { topic, groupId } of groups) {
      const name = this.name(topic);
      const [ends, committed] = await Promise.all([
        admin.fetchTopicOffsets(name),
        admin.fetchOffsets({ groupId: this.name(groupId), topics: [name] }),
      ]);
      const offsets = new Map(committed.flatMap((t) => t.partitions).map((p) => [p.partition, Number(p.offset)]));
      for (const p of ends) {
        const done = offsets.get(p.partition) ?? -1;
        const lag = Number(p.high) - (done >= 0 ? done : Number(p.low));
        lags.push({ topic, group: groupId, partition: p.partition, lag: Math.max(0, lag) });
      }
    }
    return lags;
  }

  async close(): Promise<void> {
    this.closed = true;
    const admin = this.lagAdmin;
    this.lagAdmin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
    const producer = this.producer;
    this.producer = undefined;
    await producer?.then((p) => p.disconnect()).catch(() => undefined);
    this.producerConnected = false;
  }
}
