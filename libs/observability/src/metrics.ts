import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry per service process, with the messaging metrics every service reports. */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly consumedTotal: Counter<'source'>;
  readonly failedTotal: Counter<'source'>;
  readonly retriedTotal: Counter<'source'>;
  readonly deadLetteredTotal: Counter<'source'>;
  readonly publishedTotal: Counter<'destination'>;
  readonly processingSeconds: Histogram<'source'>;

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
      published: (destination: string) => this.publishedTotal.inc({ destination }),
    };
  }
}
