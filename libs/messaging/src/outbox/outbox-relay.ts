import pg from 'pg';
import type { DataSource } from 'typeorm';
import type { Envelope } from '@am/contracts';
import { startProducerSpan } from '@am/observability';
import { lockUnsent, markSent, type OutboxRow } from '@am/persistence';
import type { AmqpClient } from '../amqp/amqp-client.js';
import { recordFor, type KafkaClient } from '../kafka/kafka-client.js';
import { failpoint } from '../failpoint.js';
import { consoleLogger, type MessagingLogger } from '../logger.js';
import type { MessagingMetrics } from '../metrics.js';

export interface OutboxRelayOptions {
  dataSource: DataSource;
  /** The database URL, for the LISTEN connection. */
  databaseUrl: string;
  amqp?: AmqpClient;
  kafka?: KafkaClient;
  batchSize?: number;
  /** Fallback poll interval when no notification arrives. */
  pollIntervalMs?: number;
  logger?: MessagingLogger;
  metrics?: MessagingMetrics;
}

/**
 * Pattern: transactional outbox, the relay half. Takes unsent rows (`FOR UPDATE SKIP LOCKED`, so several
 * relays can run), publishes them with confirms (RabbitMQ) or acks=all from the idempotent producer (Kafka),
 * and marks them sent in the same transaction. A crash between publish and mark sends a row again later:
 * consumers absorb that duplicate with their inbox. Wakes on LISTEN/NOTIFY, polls as a fallback.
 */
export class OutboxRelay {
  private listener?: pg.Client;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private notified = false;
  private readonly logger: MessagingLogger;

  constructor(private readonly options: OutboxRelayOptions) {
    this.logger = options.logger ?? consoleLogger;
  }

  async start(): Promise<void> {
    this.running = true;
    await this.listen().catch((error: Error) =>
      this.logger.warn({ err: error.message }, 'outbox: LISTEN failed; polling only'),
    );
    this.loop = this.run();
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl });
    client.on('notification', () => this.onNotification());
    client.on('error', (error) => {
      this.logger.warn({ err: error.message }, 'outbox: LISTEN connection lost; polling until it is back');
      this.listener = undefined;
      setTimeout(() => {
        if (this.running) void this.listen().catch(() => undefined);
      }, 1_000);
    });
    await client.connect();
    await client.query('LISTEN outbox');
    this.listener = client;
  }

  private async run(): Promise<void> {
    const batchSize = this.options.batchSize ?? 200;
    const pollMs = this.options.pollIntervalMs ?? 1_000;
    while (this.running) {
      let sent = 0;
      try {
        sent = await this.relayBatch(batchSize);
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'outbox: relay batch failed; will retry');
        await this.sleep(pollMs);
        continue;
      }
      if (sent < batchSize) await this.sleep(pollMs);
    }
  }

  /**
   * Sleeps until a notification or `ms`. A notification that arrived while a batch was running is remembered,
   * so the relay goes round again at once instead of waiting for the poll with rows pending.
   */
  private sleep(ms: number): Promise<void> {
    if (this.notified) {
      this.notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.notified = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private onNotification(): void {
    if (this.wake) this.wake();
    else this.notified = true;
  }

  /** Publishes one batch; returns how many rows it sent. Exposed for tests. */
  async relayBatch(limit: number): Promise<number> {
    return this.options.dataSource.transaction(async (manager) => {
      const rows = await lockUnsent(manager, limit);
      if (rows.length === 0) return 0;
      await this.publish(rows);
      failpoint('outbox-after-publish');
      await markSent(
        manager,
        rows.map((r) => r.id),
      );
      return rows.length;
    });
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
    this.wake?.();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
  }
}
