import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { KafkaClient } from '@am/messaging';
import { OrderStatsRebuild, RebuildRunningError, type RebuildProgress } from '../replay/order-stats-rebuild.js';

/** The rebuild's state as `GET /analytics/rebuild` answers it: none yet, or the last one's progress and who started it. */
export type RebuildState = { phase: 'idle' } | (RebuildProgress & { by: string });

/**
 * The order statistics rebuild started from the control room, run in the background in this process: the same code
 * as `./stack replay-analytics` (OrderStatsRebuild). One at a time: a second start while one runs is refused, here and
 * across processes (the rebuild's advisory lock). The last one's progress stays readable after it ends.
 */
@Injectable()
export class OrderStatsRebuilds implements OnApplicationShutdown {
  private readonly logger = new Logger('rebuild');
  private current?: { rebuild: OrderStatsRebuild; by: string; done: Promise<void> };

  constructor(
    private readonly db: DataSource,
    private readonly kafka: KafkaClient,
  ) {}

  state(): RebuildState {
    if (!this.current) return { phase: 'idle' };
    return { ...this.current.rebuild.progress(), by: this.current.by };
  }

  /** Starts a rebuild in the background, or RebuildRunningError when one runs (here or elsewhere). */
  async start(operator: string, allowed: () => Promise<void> = async () => undefined): Promise<RebuildState> {
    const running = this.current && ['replaying', 'swapping'].includes(this.current.rebuild.progress().phase);
    if (running) throw new RebuildRunningError(`a rebuild started by ${this.current!.by} is running`);
    // The trail of operators' actions before anything starts (a rebuild running in another process is refused after).
    await allowed();
    const rebuild = new OrderStatsRebuild(this.db, this.kafka);
    // The lock first: a rebuild running in another process refuses this one before anything changes.
    const { done: started } = await rebuild.begin();
    this.logger.warn(`order statistics rebuild from offset 0 started by ${operator}`);
    const done = started.then(
      (result) =>
        this.logger.warn(
          `order statistics rebuild started by ${operator} done: ${result.events} events in ${result.seconds.toFixed(1)} s; ` +
            `${result.ordersDiffering} orders differed from the live read model, which is now the rebuilt one`,
        ),
      (error: Error) => this.logger.error(`order statistics rebuild started by ${operator} failed: ${error.message}`),
    );
    this.current = { rebuild, by: operator, done };
    return this.state();
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.current) return;
    this.current.rebuild.stop('the service is stopping');
    await this.current.done;
  }
}
