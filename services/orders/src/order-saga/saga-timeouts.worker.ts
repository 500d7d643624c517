import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { addToOutbox } from '@am/persistence';
import { OrderFlowRunner } from '../order-flow/order-flow.runner.js';
import { OrderSagaRunner } from './order-saga.runner.js';
import { lockDueSagas } from './order-saga.repository.js';

/**
 * Pattern: saga timeout. Finds running sagas whose step deadline has passed and lets the saga decide
 * (compensate and cancel with reason `timeout`). Several instances share the work (`SKIP LOCKED`), and a reply
 * racing with the timeout waits for the saga's row lock, then finds the saga ended and changes nothing.
 *
 * It also owns the deadlines of choreographed orders, where no orchestrator waits: an order still PENDING at its
 * deadline is cancelled with `timeout` and `order.timed-out` is announced, on which inventory and payments
 * compensate. A late event waits for the order's row lock the same way.
 */
@Injectable()
export class SagaTimeoutsWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SagaTimeoutsWorker.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly db: DataSource,
    private readonly saga: OrderSagaRunner,
    private readonly flow: OrderFlowRunner,
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

  /** Times out every due saga and choreographed order, in batches; returns how many it handled. */
  async sweep(batch = 100): Promise<number> {
    let handled = 0;
    for (;;) {
      const counts = await this.db.transaction(async (manager) => {
        const due = await lockDueSagas(manager, batch);
        const dueOrders = await this.flow.lockDue(manager, batch);
        const timeout = { type: 'deadline-passed' } as const;
        for (const run of [
          ...due.map((state) => () => this.saga.apply(manager, state, timeout, { correlationId: state.orderId })),
          ...dueOrders.map((row) => () => this.flow.apply(manager, row, timeout, { correlationId: row.id })),
        ]) {
          const messages = await run();
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
        return [due.length, dueOrders.length] as const;
      });
      handled += counts[0] + counts[1];
      if (Math.max(...counts) < batch) return handled;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
