import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { MessageCatalog, orderEvents, type OrderEvent } from '@am/contracts';
import { Topics, type KafkaClient } from '@am/messaging';
import { projectOrderEvents, type OrderStatsTable } from '../order-stats/order-stats.projection.js';

/** The order figures of the summary, read from the live table or the shadow one. */
export interface OrderTotals {
  ordersCreated: number;
  ordersConfirmed: number;
  ordersCancelled: number;
  /** Sum of confirmed order totals, in cents. */
  revenue: number;
}

/** The order figures of `table` (the summary's query: `GET /analytics/summary` reads the live table with it). */
export async function orderTotals(
  q: Pick<EntityManager, 'query'>,
  table: OrderStatsTable = 'order_stats',
): Promise<OrderTotals> {
  const [row] = await q.query<{ created: number; confirmed: number; cancelled: number; revenue: string }[]>(`
    SELECT count(*)::int                                                       AS created,
           count(*) FILTER (WHERE status = 'CONFIRMED')::int                   AS confirmed,
           count(*) FILTER (WHERE status = 'CANCELLED')::int                   AS cancelled,
           coalesce(sum(total) FILTER (WHERE status = 'CONFIRMED'), 0)::bigint AS revenue
      FROM ${table}`);
  return {
    ordersCreated: row?.created ?? 0,
    ordersConfirmed: row?.confirmed ?? 0,
    ordersCancelled: row?.cancelled ?? 0,
    revenue: Number(row?.revenue ?? 0),
  };
}

/** One partition of `order-events` during a rebuild: its first offset, how far the rebuild has read, its end. */
export interface RebuildPartition {
  partition: number;
  low: number;
  /** The next offset the rebuild reads (it has read everything before it). */
  position: number;
  /** The end the rebuild reads up to: the partition's end when it started, and again under the swap's lock. */
  high: number;
}

/** What the rebuild found: the live read model just before the swap against the one rebuilt from the log. */
export interface RebuildResult {
  events: number;
  /** Records that are not order events the projection knows (not applied, as the live consumer would dead-letter). */
  skipped: number;
  seconds: number;
  eventsPerSecond: number;
  /** From the first record read to the end of the replay (the consumer's group join not included). */
  readingSeconds: number;
  /** The live table's figures under the swap's lock, just before it was replaced. */
  live: OrderTotals;
  rebuilt: OrderTotals;
  /** Orders whose row differed between the two (missing from one, or another status, user or total). */
  ordersDiffering: number;
  /** True when the live read model already was what the log says (nothing differed). */
  equal: boolean;
}

export interface RebuildProgress {
  phase: 'replaying' | 'swapping' | 'done' | 'failed';
  startedAt: string;
  finishedAt?: string;
  partitions: RebuildPartition[];
  events: number;
  skipped: number;
  /** Records read over records to read, over every partition (100 when the topic is empty). */
  percent: number;
  eventsPerSecond: number;
  result?: RebuildResult;
  error?: string;
}

/** A rebuild refused because one runs already (in this process, or in another one on the same database). */
export class RebuildRunningError extends Error {
  override name = 'RebuildRunningError';
}

/** The rebuild's advisory lock: one rebuild at a time per database, whichever process (a service, the CLI) runs it. */
const REBUILD_LOCK = 'analytics:order-stats-rebuild';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Pattern: replay, the read model can always be rebuilt. Rebuilds the order statistics from `order-events`, offset 0,
 * beside the live consumer, which keeps the live table current meanwhile:
 *
 * 1. replays the topic, in a throwaway consumer group that never commits, into a shadow table with the live
 *    consumer's own set-based projection;
 * 2. locks the live table against writers, reads the events that arrived meanwhile into the shadow, compares the two
 *    tables, and swaps the shadow in, all in one transaction. The live consumer waits on the lock for a moment and
 *    carries on; the projection is idempotent, so an event it applies after the swap that the replay already applied
 *    changes nothing.
 *
 * One implementation for `./stack replay-analytics` (replay-order-stats.ts) and the control room's rebuild button
 * (`POST /analytics/rebuild`). One rebuild at a time per database (a PostgreSQL advisory lock; the shadow table is
 * one). `progress()` may be read at any time.
 */
export class OrderStatsRebuild {
  private readonly catalog = new MessageCatalog([...orderEvents]);
  private readonly state: RebuildProgress;
  private readonly started = performance.now();
  private replaySeconds = 0;
  private firstRecordAt: number | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly db: DataSource,
    private readonly kafka: KafkaClient,
  ) {
    this.state = {
      phase: 'replaying',
      startedAt: new Date().toISOString(),
      partitions: [],
      events: 0,
      skipped: 0,
      percent: 0,
      eventsPerSecond: 0,
    };
  }

  progress(): RebuildProgress {
    const read = this.state.partitions.reduce((n, p) => n + Math.max(0, Math.min(p.position, p.high) - p.low), 0);
    const total = this.state.partitions.reduce((n, p) => n + Math.max(0, p.high - p.low), 0);
    const seconds = (performance.now() - this.started) / 1000;
    const running = this.state.phase === 'replaying' || this.state.phase === 'swapping';
    return {
      ...this.state,
      partitions: this.state.partitions.map((p) => ({ ...p })),
      percent:
        this.state.phase === 'done' || (total === 0 && this.state.partitions.length > 0)
          ? 100
          : total === 0
            ? 0
            : Math.min(100, Math.floor((read / total) * 1000) / 10),
      eventsPerSecond: running
        ? Math.round(this.state.events / Math.max(seconds, 0.001))
        : (this.state.result?.eventsPerSecond ?? 0),
    };
  }

  /** Stops a running rebuild: it fails, the live table stays as it was. */
  stop(reason = 'the rebuild was stopped'): void {
    this.abort.abort(new Error(reason));
  }

  /** Runs the rebuild to its end (RebuildRunningError at once when another one holds the lock). */
  async run(): Promise<RebuildResult> {
    return (await this.begin()).done;
  }

  /**
   * Takes the rebuild's lock (RebuildRunningError when another rebuild holds it: nothing has changed), then starts the
   * rebuild; `done` settles when it ends.
   */
  async begin(): Promise<{ done: Promise<RebuildResult> }> {
    const lock = this.db.createQueryRunner();
    await lock.connect();
    let locked = false;
    try {
      const rows = (await lock.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [REBUILD_LOCK])) as {
        locked: boolean;
      }[];
      locked = rows[0]?.locked === true;
    } finally {
      if (!locked) await release(lock);
    }
    if (!locked) {
      throw new RebuildRunningError(
        'a rebuild of the order statistics is running already (here, in another analytics process, or ./stack replay-analytics)',
      );
    }
    const done = (async () => {
      try {
        const result = await this.rebuild();
        this.state.result = result;
        this.state.phase = 'done';
        return result;
      } catch (error) {
        this.state.phase = 'failed';
        this.state.error = (error as Error).message;
        throw error;
      } finally {
        this.state.finishedAt = new Date().toISOString();
        await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [REBUILD_LOCK]).catch(() => undefined);
        await release(lock);
      }
    })();
    return { done };
  }

  private async ends(): Promise<Map<number, { low: number; high: number }>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(this.kafka.name(Topics.orderEvents));
      return new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Sets the ends to read up to, keeping the positions read so far. */
  private target(ends: Map<number, { low: number; high: number }>): void {
    this.state.partitions = [...ends]
      .sort(([a], [b]) => a - b)
      .map(([partition, { low, high }]) => ({
        partition,
        low,
        high,
        position: this.state.partitions.find((p) => p.partition === partition)?.position ?? low,
      }));
  }

  private reached(): boolean {
    return this.state.partitions.every((p) => p.high <= p.low || p.position >= p.high);
  }

  private async until(): Promise<void> {
    while (!this.reached()) {
      if (this.abort.signal.aborted) throw this.abort.signal.reason as Error;
      await sleep(50);
    }
  }

  private async rebuild(): Promise<RebuildResult> {
    const topic = this.kafka.name(Topics.orderEvents);
    await this.db.query('DROP TABLE IF EXISTS order_stats_rebuild');
    await this.db.query('CREATE TABLE order_stats_rebuild (LIKE order_stats INCLUDING ALL)');
    this.target(await this.ends());

    /** Where replayed events go: their own small transactions first, then the swap's transaction. */
    const inflight = new Set<Promise<void>>();
    let sink: (apply: (manager: EntityManager) => Promise<void>) => Promise<void> = (apply) =>
      this.db.transaction(apply);

    const consumer: Consumer = this.kafka.kafka.consumer({
      groupId: this.kafka.name(`analytics-replay-${randomUUID()}`),
      maxBytes: 4 * 1024 * 1024,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        // The partitions in parallel, each batch in its own transaction, as the live consumer does.
        partitionsConsumedConcurrently: 3,
        eachBatch: async (payload) => {
          const { batch } = payload;
          this.firstRecordAt ??= performance.now();
          const events: OrderEvent[] = [];
          let skipped = 0;
          for (const message of batch.messages) {
            const parsed = message.value ? this.catalog.parse(message.value) : undefined;
            if (parsed?.ok) events.push(parsed.message);
            else skipped += 1;
          }
          // The live consumer's set-based projection, into the shadow table.
          const applied = sink((manager) => projectOrderEvents(manager, events, 'order_stats_rebuild'));
          inflight.add(applied);
          await applied.finally(() => inflight.delete(applied));
          this.state.events += events.length;
          this.state.skipped += skipped;
          const partition = this.state.partitions.find((p) => p.partition === batch.partition);
          if (partition) partition.position = Number(batch.lastOffset()) + 1;
          await payload.heartbeat();
        },
      });

      await this.until();
      this.replaySeconds = (performance.now() - this.started) / 1000;

      // The swap: live writers wait on the lock; events that arrived meanwhile go into the shadow in this transaction.
      this.state.phase = 'swapping';
      const compared = await this.db.transaction(async (manager) => {
        await manager.query('LOCK TABLE order_stats IN EXCLUSIVE MODE');
        this.target(await this.ends());
        sink = (apply) => apply(manager);
        await this.until();
        sink = async () => undefined;
        await Promise.all(inflight);
        const live = await orderTotals(manager, 'order_stats');
        const rebuilt = await orderTotals(manager, 'order_stats_rebuild');
        const [differing] = await manager.query<{ n: number }[]>(`
          SELECT count(*)::int AS n
            FROM order_stats l FULL OUTER JOIN order_stats_rebuild r USING (order_id)
           WHERE l.order_id IS NULL OR r.order_id IS NULL
              OR (l.user_id, l.total, l.status) IS DISTINCT FROM (r.user_id, r.total, r.status)`);
        await manager.query('TRUNCATE order_stats');
        await manager.query('INSERT INTO order_stats SELECT * FROM order_stats_rebuild');
        await manager.query('DROP TABLE order_stats_rebuild');
        return { live, rebuilt, ordersDiffering: differing?.n ?? 0 };
      });
      const seconds = (performance.now() - this.started) / 1000;
      return {
        events: this.state.events,
        skipped: this.state.skipped,
        seconds,
        eventsPerSecond: this.state.events / Math.max(this.replaySeconds, 0.001),
        readingSeconds:
          this.firstRecordAt === undefined ? 0 : this.replaySeconds - (this.firstRecordAt - this.started) / 1000,
        ...compared,
        equal: compared.ordersDiffering === 0,
      };
    } finally {
      sink = async () => undefined;
      await consumer.disconnect().catch(() => undefined);
    }
  }
}

async function release(runner: QueryRunner): Promise<void> {
  await runner.release().catch(() => undefined);
}
