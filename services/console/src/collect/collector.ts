import type { LagPoint, ServicePoint, SourceState, Tick } from '../snapshot.js';
import { activeFaults, byLabel, parsePrometheus, rates, single, type Sample } from './prometheus.js';
import { readQueues, type RabbitStatsAccess } from './rabbitmq-stats.js';

export interface CollectorOptions {
  /** Base URL of each service, by name. */
  services: Record<string, string>;
  rabbitmq: RabbitStatsAccess;
  intervalMs: number;
  /** How many ticks to keep for a page that connects (the sparklines' window). */
  historyTicks: number;
  logger: { warn(details: object, message: string): void };
}

interface Counters {
  at: number;
  published: Record<string, number>;
  consumed: Record<string, number>;
}

/**
 * Reads the whole system once per interval, whether a page is open or not, and keeps the last minutes: every service's
 * `/metrics` (its own counters and gauges: what it published and consumed, its outbox, the lag of its Kafka groups, its
 * breakers, the fault switches on) and the broker's statistics of every queue. A source that does not answer is
 * marked, with the time it last did; the page shows it as stale rather than as zero. Reading is cheap: seven HTTP
 * requests per second.
 */
export class Collector {
  private readonly history: Tick[] = [];
  private readonly listeners = new Set<(tick: Tick) => void>();
  private readonly lastOk = new Map<string, number>();
  private readonly counters = new Map<string, Counters>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(private readonly options: CollectorOptions) {}

  get intervalMs(): number {
    return this.options.intervalMs;
  }

  get historyTicks(): number {
    return this.options.historyTicks;
  }

  start(): void {
    const loop = () => {
      this.running = this.collect()
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'control room: a collection failed'))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(loop, this.options.intervalMs);
        });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** The ticks kept, oldest first. */
  ticks(): Tick[] {
    return [...this.history];
  }

  /** Calls `listener` with each new tick until the returned function is called. */
  subscribe(listener: (tick: Tick) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One reading of every source. */
  async collect(): Promise<Tick> {
    const at = Date.now();
    const names = Object.keys(this.options.services);
    const [queues, ...scrapes] = await Promise.allSettled([
      readQueues(this.options.rabbitmq),
      ...names.map((name) => this.scrape(this.options.services[name]!)),
    ]);
    const sources: SourceState[] = [this.source('rabbitmq', queues, at)];
    const services: ServicePoint[] = [];
    const lags: LagPoint[] = [];
    names.forEach((name, i) => {
      const scrape = scrapes[i]!;
      sources.push(this.source(name, scrape, at));
      if (scrape.status === 'rejected') {
        services.push(emptyPoint(name));
        return;
      }
      services.push(this.servicePoint(name, scrape.value, at));
      for (const s of scrape.value) {
        if (s.name !== 'consumer_lag_messages') continue;
        const { topic, group, partition } = s.labels;
        if (topic && group && partition !== undefined)
          lags.push({ topic, group, partition: Number(partition), lag: s.value });
      }
    });
    const tick: Tick = { at, sources, queues: queues.status === 'fulfilled' ? queues.value : [], lags, services };
    this.history.push(tick);
    if (this.history.length > this.options.historyTicks)
      this.history.splice(0, this.history.length - this.options.historyTicks);
    for (const listener of this.listeners) listener(tick);
    return tick;
  }

  private async scrape(baseUrl: string): Promise<Sample[]> {
    const response = await fetch(new URL('/metrics', baseUrl), { signal: AbortSignal.timeout(1_500) });
    if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
    return parsePrometheus(await response.text());
  }

  private source(name: string, result: PromiseSettledResult<unknown>, at: number): SourceState {
    if (result.status === 'fulfilled') this.lastOk.set(name, at);
    return {
      name,
      ok: result.status === 'fulfilled',
      lastOk: this.lastOk.get(name) ?? null,
      ...(result.status === 'rejected' ? { error: describe(result.reason) } : {}),
    };
  }

  private servicePoint(service: string, samples: Sample[], at: number): ServicePoint {
    const now: Counters = {
      at,
      published: byLabel(samples, 'messages_published_total', 'destination'),
      consumed: byLabel(samples, 'messages_consumed_total', 'source'),
    };
    const before = this.counters.get(service);
    this.counters.set(service, now);
    const seconds = before ? (at - before.at) / 1000 : 0;
    const unsent = single(samples, 'outbox_unsent_messages');
    const oldest = single(samples, 'outbox_lag_seconds');
    return {
      service,
      up: true,
      published: rates(before?.published, now.published, seconds),
      consumed: rates(before?.consumed, now.consumed, seconds),
      deadLettered: byLabel(samples, 'messages_dead_lettered_total', 'source'),
      retried: byLabel(samples, 'messages_retried_total', 'source'),
      duplicates: byLabel(samples, 'messages_duplicates_total', 'source'),
      groupJoins: Object.fromEntries(
        samples
          .filter((s) => s.name === 'consumer_group_joins_total')
          .map((s) => [`${s.labels.topic}/${s.labels.group}`, s.value]),
      ),
      ...(unsent === undefined ? {} : { outboxUnsent: unsent }),
      ...(oldest === undefined ? {} : { outboxOldestSeconds: oldest }),
      breakersOpen: samples
        .filter((s) => s.name === 'dependency_breaker_open' && s.value > 0)
        .map((s) => s.labels.dependency ?? '?'),
      faults: activeFaults(samples),
    };
  }
}

function emptyPoint(service: string): ServicePoint {
  return {
    service,
    up: false,
    published: {},
    consumed: {},
    deadLettered: {},
    retried: {},
    duplicates: {},
    groupJoins: {},
    breakersOpen: [],
    faults: [],
  };
}

function describe(error: unknown): string {
  const e = error as { message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error);
}
