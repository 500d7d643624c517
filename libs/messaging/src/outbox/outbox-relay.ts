import pg from 'pg';
import type { DataSource } from 'typeorm';
import type { Envelope } from '@am/contracts';
import { startProducerSpan } from '@am/observability';
import { claimUnsent, markSent, onOutboxCommitted, releaseClaims, type OutboxRow, type Query } from '@am/persistence';
import type { AmqpClient } from '../amqp/amqp-client.js';
import { recordFor, type KafkaClient } from '../kafka/kafka-client.js';
import { failpoint } from '../failpoint.js';
import { consoleLogger, type MessagingLogger } from '../logger.js';
import type { MessagingMetrics } from '../metrics.js';

export interface OutboxRelayOptions {
  dataSource: DataSource;
  /** The database URL, for the relay's own connection (its claims belong to that session). */
  databaseUrl: string;
  amqp?: AmqpClient;
  kafka?: KafkaClient;
  batchSize?: number;
  /**
   * How often the relay looks for rows nobody told it about: rows another instance wrote, rows whose relay
   * crashed. A commit in this process wakes it at once.
   */
  pollIntervalMs?: number;
  logger?: MessagingLogger;
  metrics?: MessagingMetrics;
}

/**
 * Pattern: transactional outbox, the relay half. Woken inside the process the moment a transaction that wrote
 * outbox rows commits (and by a short poll for rows written elsewhere), it claims unsent rows in one
 * autocommitted statement, publishes them with confirms (RabbitMQ) or acks=all from the idempotent producer
 * (Kafka), and then marks them sent. No transaction stays open while the broker answers, and nothing in the
 * database's commit path notifies anyone (a `pg_notify` would serialise every outbox-writing commit of the
 * server). A claim belongs to the relay's database session: several relays share the table without taking
 * the same row, and a crashed relay's rows are taken over as soon as its session ends. A crash between
 * publish and mark sends a row again: consumers absorb that duplicate with their inbox.
 */
export class OutboxRelay {
  private client?: pg.Client;
  private connecting?: Promise<pg.Client>;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private woken = false;
  private unsubscribe?: () => void;
  private readonly logger: MessagingLogger;

  constructor(private readonly options: OutboxRelayOptions) {
    this.logger = options.logger ?? consoleLogger;
  }

  async start(): Promise<void> {
    this.running = true;
    this.unsubscribe = onOutboxCommitted(this.options.dataSource, () => this.nudge());
    this.loop = this.run();
  }

  /** Wakes the relay now (a commit wrote outbox rows); remembered if it is busy with a batch. */
  nudge(): void {
    if (this.wake) this.wake();
    else this.woken = true;
  }

  private async run(): Promise<void> {
    const batchSize = this.options.batchSize ?? 200;
    const pollMs = this.options.pollIntervalMs ?? 500;
    while (this.running) {
      let sent = 0;
      try {
        sent = await this.relayBatch(batchSize);
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'outbox: relay batch failed; will retry');
        this.woken = false;
        await this.sleep(pollMs);
        continue;
      }
      if (sent < batchSize) await this.sleep(pollMs);
    }
  }

  /**
   * Sleeps until a nudge or `ms`. A nudge that came while a batch was running is remembered, so the relay goes
   * round again at once instead of waiting for the poll with rows pending.
   */
  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** The relay's own database session; its claims lapse when it ends. */
  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = new pg.Client({
        connectionString: this.options.databaseUrl,
        application_name: 'outbox-relay',
        connectionTimeoutMillis: 5_000,
      });
      client.on('error', (error) => {
        this.logger.warn({ err: error.message }, 'outbox: relay connection lost; reconnecting');
        if (this.client === client) this.client = undefined;
      });
      client.on('end', () => {
        if (this.client === client) this.client = undefined;
      });
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
      this.client = client;
      return client;
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
    const client = await this.connection();
    try {
      return (await client.query(sql, params)).rows as T[];
    } catch (error) {
      // A broken session cannot run the next statement; a new one will (its claims start afresh).
      const code = (error as { code?: string }).code ?? '';
      if (code === '' || code.startsWith('08') || code.startsWith('57')) {
        if (this.client === client) this.client = undefined;
        void client.end().catch(() => undefined);
      }
      throw error;
    }
  }

  /** Publishes one batch; returns how many rows it sent. Exposed for tests. */
  async relayBatch(limit: number): Promise<number> {
    const query: Query = (sql, params) => this.query(sql, params);
    const rows = await claimUnsent(query, limit);
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.id);
    try {
      await this.publish(rows);
    } catch (error) {
      await releaseClaims(query, ids).catch(() => undefined);
      throw error;
    }
    failpoint('outbox-after-publish');
    await markSent(query, ids);
    return rows.length;
  }

  private async publish(rows: OutboxRow[]): Promise<void> {
    // A PRODUCER span per row, child of the transaction that wrote it (the row's `traceparent`); the message
    // goes out with the span as its parent, so the consumer's span joins the same trace.
    const spans = new Map(
      rows.map((r) => {
        const d = r.destination;
        const target = d.broker === 'kafka' ? d.topic : d.exchange || d.routingKey;
        return [
          r,
          startProducerSpan(`${target} publish`, r.headers, {
            'messaging.system': d.broker === 'kafka' ? 'kafka' : 'rabbitmq',
            'messaging.operation.type': 'send',
            'messaging.destination.name': target,
            'messaging.message.id': r.messageId,
            'app.message.type': r.type,
          }),
        ];
      }),
    );
    const headersOf = (row: OutboxRow) => spans.get(row)!.headers;
    try {
      await this.publishRows(rows, headersOf);
    } catch (error) {
      for (const span of spans.values()) span.end(error);
      throw error;
    }
    for (const span of spans.values()) span.end();
  }

  private async publishRows(rows: OutboxRow[], headersOf: (row: OutboxRow) => Record<string, string>): Promise<void> {
    const kafkaRows = rows.filter((r) => r.destination.broker === 'kafka');
    const amqpRows = rows.filter((r) => r.destination.broker === 'amqp');
    const pending: Promise<void>[] = [];
    if (kafkaRows.length > 0) {
      const kafka = this.options.kafka;
      if (!kafka) throw new Error('outbox: a row is for Kafka but this relay has no Kafka client');
      pending.push(
        kafka.send(
          kafkaRows.map((r) => {
            const d = r.destination as { topic: string; key: string };
            return recordFor(d.topic, d.key, r.payload as Envelope, headersOf(r));
          }),
        ),
      );
    }
    for (const row of amqpRows) {
      const amqp = this.options.amqp;
      if (!amqp) throw new Error('outbox: a row is for RabbitMQ but this relay has no RabbitMQ client');
      const d = row.destination as { exchange: string; routingKey: string };
      pending.push(amqp.publish(d.exchange, d.routingKey, row.payload as Envelope, { headers: headersOf(row) }));
    }
    const results = await Promise.allSettled(pending);
    const failure = results.find((r) => r.status === 'rejected');
    if (failure?.status === 'rejected') throw failure.reason;
    for (const row of rows) {
      this.options.metrics?.published(
        row.destination.broker === 'kafka'
          ? row.destination.topic
          : row.destination.exchange || row.destination.routingKey,
      );
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.wake?.();
    await this.loop;
    await this.connecting?.catch(() => undefined);
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}
