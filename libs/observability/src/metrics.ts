import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Depth of one RabbitMQ queue, read with a passive declare. */
export interface QueueDepth {
  queue: string;
  /** Messages ready for delivery (not counting those delivered and not yet acknowledged). */
  messages: number;
  consumers: number;
}

/** How far one consumer group is behind on one partition. */
export interface ConsumerLag {
  topic: string;
  group: string;
  partition: number;
  /** Records between the group's committed offset and the end of the partition. */
  lag: number;
}

const SCRAPE_READ_TIMEOUT_MS = 3_000;

/**
 * Shares one read between the gauges a scrape collects together (prom-client collects them concurrently), and
 * gives up after a few seconds so that a broker or database that is away never hangs `/metrics`.
 */
function perScrape<T>(read: () => Promise<T>): () => Promise<T | undefined> {
  let pending: Promise<T | undefined> | undefined;
  return () => {
    pending ??= Promise.race([
      read(),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), SCRAPE_READ_TIMEOUT_MS).unref()),
    ])
      .catch(() => undefined)
      .finally(() => setTimeout(() => (pending = undefined), 100).unref());
    return pending;
  };
}

/** One Prometheus registry per service process, with the messaging metrics every service reports. */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly consumedTotal: Counter<'source'>;
  readonly failedTotal: Counter<'source'>;
  readonly retriedTotal: Counter<'source'>;
  readonly deadLetteredTotal: Counter<'source'>;
  readonly duplicatesTotal: Counter<'source'>;
  readonly groupJoinsTotal: Counter<'topic' | 'group'>;
  readonly publishedTotal: Counter<'destination'>;
  readonly processingSeconds: Histogram<'source'>;
  readonly sagaOutcomesTotal: Counter<'outcome' | 'reason'>;
  readonly consumerPausesTotal: Counter<'dependency'>;
  readonly consumerPauseSeconds: Histogram<'dependency'>;
  readonly breakerOpen: Gauge<'dependency'>;
  readonly requestTimeoutsTotal: Counter<'destination'>;
  readonly repliesDroppedTotal: Counter<'reason'>;

  constructor(readonly service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.consumedTotal = new Counter({
      name: 'messages_consumed_total',
      help: 'Messages handled successfully, by queue or topic',
      labelNames: ['source'],
      registers,
    });
    this.failedTotal = new Counter({
      name: 'messages_failed_total',
      help: 'Handler failures (each attempt), by queue or topic',
      labelNames: ['source'],
      registers,
    });
    this.retriedTotal = new Counter({
      name: 'messages_retried_total',
      help: 'Messages sent to a delayed retry',
      labelNames: ['source'],
      registers,
    });
    this.deadLetteredTotal = new Counter({
      name: 'messages_dead_lettered_total',
      help: 'Messages sent to a dead letter queue or topic',
      labelNames: ['source'],
      registers,
    });
    this.duplicatesTotal = new Counter({
      name: 'messages_duplicates_total',
      help: 'Deliveries found already handled in the inbox and skipped (duplicates suppressed), by queue or topic',
      labelNames: ['source'],
      registers,
    });
    this.groupJoinsTotal = new Counter({
      name: 'consumer_group_joins_total',
      help: 'Times a Kafka consumer of this process joined its group, each one a rebalance of the group',
      labelNames: ['topic', 'group'],
      registers,
    });
    this.publishedTotal = new Counter({
      name: 'messages_published_total',
      help: 'Messages published and confirmed by the broker',
      labelNames: ['destination'],
      registers,
    });
    this.processingSeconds = new Histogram({
      name: 'message_processing_seconds',
      help: 'Time from delivery to acknowledgement',
      labelNames: ['source'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.sagaOutcomesTotal = new Counter({
      name: 'saga_outcomes_total',
      help: 'Order sagas ended, by outcome (CONFIRMED, CANCELLED) and cancellation reason (none when confirmed)',
      labelNames: ['outcome', 'reason'],
      registers,
    });
    this.requestTimeoutsTotal = new Counter({
      name: 'request_timeouts_total',
      help: 'Requests (request/reply over RabbitMQ) that got no answer within their timeout, by request queue',
      labelNames: ['destination'],
      registers,
    });
    this.repliesDroppedTotal = new Counter({
      name: 'replies_dropped_total',
      help: 'Replies dropped by a requester: late (after the timeout), unknown (no such request), sender, invalid',
      labelNames: ['reason'],
      registers,
    });
    this.consumerPausesTotal = new Counter({
      name: 'consumer_pauses_total',
      help: 'Times the consumers paused because a dependency was unavailable (a breaker opened), by dependency',
      labelNames: ['dependency'],
      registers,
    });
    this.consumerPauseSeconds = new Histogram({
      name: 'consumer_pause_seconds',
      help: 'How long the consumers stayed paused, from the breaker opening to its probe answering',
      labelNames: ['dependency'],
      buckets: [0.5, 1, 2, 5, 10, 20, 40, 80, 160],
      registers,
    });
    this.breakerOpen = new Gauge({
      name: 'dependency_breaker_open',
      help: '1 while the breaker of a dependency is open and the consumers are paused',
      labelNames: ['dependency'],
      registers,
    });
  }

  /** Reports the outbox backlog, read from the database at each scrape. */
  trackOutbox(readUnsent: () => Promise<number>): void {
    new Gauge({
      name: 'outbox_unsent_messages',
      help: 'Outbox rows not yet sent',
      registers: [this.registry],
      async collect() {
        this.set(await readUnsent());
      },
    });
  }

  /**
   * Reports the outbox backlog and lag, read from the database at each scrape: `outbox_unsent_messages` and
   * `outbox_lag_seconds` (the age of the oldest unsent row: how far behind the relay is).
   */
  trackOutboxBacklog(read: () => Promise<{ unsent: number; oldestSeconds: number }>): void {
    const backlog = perScrape(read);
    const registers = [this.registry];
    new Gauge({
      name: 'outbox_unsent_messages',
      help: 'Outbox rows not yet sent',
      registers,
      async collect() {
        const b = await backlog();
        if (b) this.set(b.unsent);
      },
    });
    new Gauge({
      name: 'outbox_lag_seconds',
      help: 'Age of the oldest unsent outbox row (0 when the outbox is empty)',
      registers,
      async collect() {
        const b = await backlog();
        if (b) this.set(b.oldestSeconds);
      },
    });
  }

  /**
   * Reports `db_round_trips_total`: the statements the process has sent to PostgreSQL, each one round trip, from a
   * count the process keeps (`read`, cumulative). The bench divides it by the sagas completed.
   */
  trackDatabaseRoundTrips(read: () => number): void {
    let reported = 0;
    new Counter({
      name: 'db_round_trips_total',
      help: 'Statements sent to PostgreSQL by this process (each one round trip, transaction control included)',
      registers: [this.registry],
      collect() {
        const now = read();
        if (now > reported) this.inc(now - reported);
        reported = now;
      },
    });
  }

  /** Reports the depth of the RabbitMQ queues the service consumes, read from the broker at each scrape. */
  trackQueueDepth(read: () => Promise<QueueDepth[]>): void {
    const depths = perScrape(read);
    const registers = [this.registry];
    new Gauge({
      name: 'queue_depth_messages',
      help: 'Messages ready in a consumed RabbitMQ queue (passive declare at scrape time)',
      labelNames: ['queue'],
      registers,
      async collect() {
        this.reset();
        for (const d of (await depths()) ?? []) this.set({ queue: d.queue }, d.messages);
      },
    });
    new Gauge({
      name: 'queue_consumers',
      help: 'Consumers attached to a consumed RabbitMQ queue',
      labelNames: ['queue'],
      registers,
      async collect() {
        this.reset();
        for (const d of (await depths()) ?? []) this.set({ queue: d.queue }, d.consumers);
      },
    });
  }

  /** Reports the lag of the service's Kafka consumer groups, per partition, read from Kafka at each scrape. */
  trackConsumerLag(read: () => Promise<ConsumerLag[]>): void {
    const lags = perScrape(read);
    new Gauge({
      name: 'consumer_lag_messages',
      help: "Records a Kafka consumer group has still to consume (end offset minus the group's committed offset)",
      labelNames: ['topic', 'group', 'partition'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const l of (await lags()) ?? []) {
          this.set({ topic: l.topic, group: l.group, partition: String(l.partition) }, l.lag);
        }
      },
    });
  }

  /** The operator's fault switches that are on (1 per fault), for the control room's annotations. */
  trackFaults(read: () => readonly { kind: string; source?: string; by: string }[]): void {
    new Gauge({
      name: 'faults_active',
      help: "Fault switches on in this process (an operator's runtime fault injection), by kind and source",
      labelNames: ['kind', 'source', 'by'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const f of read()) this.inc({ kind: f.kind, source: f.source ?? '', by: f.by });
      },
    });
  }

  /** The shape libs/messaging reports through. */
  messaging() {
    return {
      consumed: (source: string, durationMs: number) => {
        this.consumedTotal.inc({ source });
        this.processingSeconds.observe({ source }, durationMs / 1000);
      },
      failed: (source: string) => this.failedTotal.inc({ source }),
      retried: (source: string) => this.retriedTotal.inc({ source }),
      deadLettered: (source: string) => this.deadLetteredTotal.inc({ source }),
      duplicate: (source: string) => this.duplicatesTotal.inc({ source }),
      rebalanced: (topic: string, group: string) => this.groupJoinsTotal.inc({ topic, group }),
      published: (destination: string) => this.publishedTotal.inc({ destination }),
      paused: (dependency: string) => {
        this.consumerPausesTotal.inc({ dependency });
        this.breakerOpen.set({ dependency }, 1);
      },
      resumed: (dependency: string, pausedMs: number) => {
        this.consumerPauseSeconds.observe({ dependency }, pausedMs / 1000);
        this.breakerOpen.set({ dependency }, 0);
      },
      requestTimedOut: (destination: string) => this.requestTimeoutsTotal.inc({ destination }),
      replyDropped: (reason: string) => this.repliesDroppedTotal.inc({ reason }),
    };
  }
}
