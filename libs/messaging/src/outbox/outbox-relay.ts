import pg from 'pg';
import type { DataSource } from 'typeorm';
import type { Envelope } from '@am/contracts';
import { startProducerSpan } from '@am/observability';
import {
  claimUnsent,
  committedUnsent,
  countDatabaseRoundTrip,
  PreparingClient,
  markSent,
  onOutboxCommitted,
  releaseClaims,
  type OutboxRow,
  type Query,
} from '@am/persistence';
import type { AmqpClient } from '../amqp/amqp-client.js';
import { recordFor, type KafkaClient } from '../kafka/kafka-client.js';
import { failpoint } from '../failpoint.js';
import { consoleLogger, type MessagingLogger } from '../logger.js';
import type { MessagingMetrics } from '../metrics.js';
import { faults } from '../faults/fault-switches.js';

export interface OutboxRelayOptions {
  dataSource: DataSource;
  /** The database URL, for the relay's own connection (its claims belong to that session). */
  databaseUrl: string;
  amqp?: AmqpClient;
  kafka?: KafkaClient;
  batchSize?: number;
  /**
   * How often the relay looks for rows nobody handed it: rows another instance wrote, rows whose relay crashed,
   * rows whose first publish failed. A commit in this process hands its rows over at once.
   */
  pollIntervalMs?: number;
  /** The poll leaves rows younger than this to the process that wrote them (default 2 s). */
  freshGraceMs?: number;
  /** How many committed rows may wait in memory for the fast path (default 10,000); more wait for the poll. */
  freshRowsBound?: number;
  logger?: MessagingLogger;
  metrics?: MessagingMetrics;
}

/**
 * Pattern: transactional outbox, the relay half. Two ways in:
 * - the fast path: after a transaction of this process that wrote outbox rows commits, its rows are handed to the
 *   relay, which checks with one read that they are in the table (a savepoint rolled back may have removed some),
 *   publishes them with confirms (RabbitMQ) or acks=all (Kafka), and marks them sent. Rows that arrive while a
 *   batch is being published go out together in the next one;
 * - the safety net: every `pollIntervalMs` it claims rows older than `freshGraceMs` that nobody sent (written by
 *   another instance, left by a crash, or whose first publish failed) in one autocommitted statement, in the name
 *   of its database session, publishes them and marks them sent.
 * No transaction stays open while the broker answers, and nothing in the database's commit path notifies anyone
 * (a `pg_notify` would serialise every outbox-writing commit of the server). Claims belong to a session: several
 * relays share the table without taking the same row, and a crashed relay's rows are taken over as soon as its
 * session ends. A crash between publish and mark sends a row again: consumers absorb that duplicate with their inbox.
 */
export class OutboxRelay {
  private client?: pg.Client;
  private connecting?: Promise<pg.Client>;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private woken = false;
  private fresh: OutboxRow[] = [];
  private unsubscribe?: () => void;
  private readonly logger: MessagingLogger;

  constructor(private readonly options: OutboxRelayOptions) {
    this.logger = options.logger ?? consoleLogger;
  }

  async start(): Promise<void> {
    this.running = true;
    // One relay per data source gets the rows of its commits; another one (a test's) only polls.
    // Bounded: while a broker is slow or away the rows pile up here, and past the bound they are left to the
    // safety net, which finds them in the table.
    const bound = this.options.freshRowsBound ?? 10_000;
    this.unsubscribe = onOutboxCommitted(this.options.dataSource, (rows) => {
      if (this.fresh.length + rows.length <= bound) this.fresh.push(...rows);
      this.nudge();
    });
    this.loop = this.run();
  }

  /** Wakes the relay now; remembered if it is busy with a batch. */
  nudge(): void {
    if (this.wake) this.wake();
    else this.woken = true;
  }

  private async run(): Promise<void> {
    const batchSize = this.options.batchSize ?? 200;
    const pollMs = this.options.pollIntervalMs ?? 500;
    let nextPoll = 0;
    while (this.running) {
      if (faults.relayPaused) {
        // An operator's fault switch: the rows wait in the outbox, as they would with the broker away.
        await this.sleep(pollMs);
        continue;
      }
      try {
        if (this.fresh.length > 0) await this.publishCommitted(this.fresh.splice(0, batchSize));
        if (Date.now() >= nextPoll) {
          const sent = await this.relayBatch(batchSize);
          nextPoll = sent >= batchSize ? 0 : Date.now() + pollMs;
        }
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'outbox: relay batch failed; will retry');
        nextPoll = Date.now() + pollMs;
        this.woken = false;
        await this.sleep(pollMs);
        continue;
      }
      if (this.fresh.length === 0 && Date.now() < nextPoll) await this.sleep(nextPoll - Date.now());
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
      const client = new PreparingClient({
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
      countDatabaseRoundTrip();
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

  private queryFn(): Query {
    return (sql, params) => this.query(sql, params);
  }

  /**
   * The fast path: rows this process has just committed. A row that failed to go out stays unsent in the table
   * and is the safety net's, once it is older than the grace.
   */
  private async publishCommitted(rows: OutboxRow[]): Promise<void> {
    const query = this.queryFn();
    const present = await committedUnsent(
      query,
      rows.map((r) => r.id),
    );
    const ready = rows.filter((r) => present.has(r.id));
    if (ready.length === 0) return;
    await this.publish(ready);
    failpoint('outbox-after-publish');
    await markSent(
      query,
      ready.map((r) => r.id),
    );
  }

  /** The safety net: claims, publishes and marks one batch of older rows; returns how many it sent. */
  async relayBatch(limit: number, olderThanMs = this.options.freshGraceMs ?? 2_000): Promise<number> {
    const query = this.queryFn();
    const rows = await claimUnsent(query, limit, olderThanMs);
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
