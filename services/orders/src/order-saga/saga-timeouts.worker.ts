import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { addToOutbox } from '@am/persistence';
import { OrderSagaRunner } from './order-saga.runner.js';
import { lockDueSagas } from './order-saga.repository.js';

/**
 * Pattern: saga timeout. Finds running sagas whose step deadline has passed and lets the saga decide
 * (compensate and cancel with reason `timeout`). Several instances share the work (`SKIP LOCKED`), and a reply
 * racing with the timeout waits for the saga's row lock, then finds the saga ended and changes nothing.
 */
@Injectable()
export class SagaTimeoutsWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SagaTimeoutsWorker.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly db: DataSource,
    private readonly saga: OrderSagaRunner,
  ) {}

  onApplicationBootstrap(): void {
    const every = Number(process.env.SAGA_TIMEOUT_CHECK_MS ?? 500);
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .then(() => undefined)
        .catch((error: Error) => this.logger.warn(`saga timeout sweep failed: ${error.message}`))
        .finally(() => (this.running = undefined));
    }, every);
  }

  /** Times out every due saga, in batches; returns how many it handled. */
  async sweep(batch = 100): Promise<number> {
    let handled = 0;
    for (;;) {
      const count = await this.db.transaction(async (manager) => {
        const due = await lockDueSagas(manager, batch);
        for (const state of due) {
          const messages = await this.saga.apply(
            manager,
            state,
            { type: 'deadline-passed' },
            { correlationId: state.orderId },
          );
          await addToOutbox(
            manager,
            messages.map((m) => ({
              destination: m.destination,
              messageId: m.envelope.messageId,
              type: m.envelope.type,
              payload: m.envelope,
            })),
          );
        }
        return due.length;
      });
      handled += count;
      if (count < batch) return handled;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
