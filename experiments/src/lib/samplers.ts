import amqp from 'amqplib';
import pg from 'pg';
import { epochMs, sleep } from './clock.js';

export interface DepthSample {
  /** Epoch milliseconds. */
  at: number;
  /** Ready messages (AMQP `queue.declare-ok` message count: excludes the ones delivered and not yet acked). */
  ready: number;
  consumers: number;
}

/**
 * Samples a queue's depth every `intervalMs` with a passive declare (`checkQueue`) on a channel of its own.
 * The management API would be simpler, but it refreshes its queue figures only every 5 s by default; a passive
 * declare asks the queue itself. Its count is of ready messages only: up to prefetch × consumers more are in
 * flight, unacknowledged (10–50 here, noise against thousands).
 */
export class QueueDepthSampler {
  readonly samples: DepthSample[] = [];
  private running = false;
  private loop?: Promise<void>;
  private connection?: amqp.ChannelModel;

  constructor(
    private readonly amqpUrl: string,
    private readonly queue: string,
    private readonly intervalMs = 100,
  ) {}

  async start(): Promise<void> {
    this.connection = await amqp.connect(this.amqpUrl);
    const channel = await this.connection.createChannel();
    this.running = true;
    this.loop = (async () => {
      let next = epochMs();
      while (this.running) {
        const at = epochMs();
        try {
          const { messageCount, consumerCount } = await channel.checkQueue(this.queue);
          this.samples.push({ at, ready: messageCount, consumers: consumerCount });
        } catch {
          // A sample lost (the broker busy or blocked) is a gap in the chart, not a failed experiment.
        }
        next += this.intervalMs;
        await sleep(Math.max(0, next - epochMs()));
      }
    })();
  }

  latest(): number {
    return this.samples.at(-1)?.ready ?? 0;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.connection?.close().catch(() => undefined);
  }
}

export interface OrderCountSample {
  at: number;
  /** Rows in the orders table: orders the order-processing worker has taken off the queue. */
  stored: number;
  /** Of them, the ones whose saga has ended (CONFIRMED or CANCELLED). */
  decided: number;
}

/** Samples the orders database: how many orders are stored, and how many have left PENDING. */
export class OrderCountSampler {
  readonly samples: OrderCountSample[] = [];
  private running = false;
  private loop?: Promise<void>;
  private readonly client: pg.Client;

  constructor(
    databaseUrl: string,
    private readonly intervalMs = 250,
  ) {
    this.client = new pg.Client({ connectionString: databaseUrl });
  }

  async start(): Promise<void> {
    await this.client.connect();
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const at = epochMs();
        this.samples.push({ at, ...(await countOrders(this.client)) });
        await sleep(this.intervalMs);
      }
    })();
  }

  latest(): OrderCountSample | undefined {
    return this.samples.at(-1);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.client.end();
  }
}

export async function countOrders(client: pg.Client): Promise<{ stored: number; decided: number }> {
  const { rows } = await client.query<{ stored: number; decided: number }>(
    `SELECT count(*)::int AS stored, count(*) FILTER (WHERE status <> 'PENDING')::int AS decided FROM orders`,
  );
  return rows[0]!;
}
