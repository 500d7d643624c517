import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AmqpClient, AmqpConsumer, DependencyBreakers } from '@am/messaging';
import { ServiceMetrics, createLogger } from '@am/observability';
import { deadLetterQueueSubscriptions } from './dead-letter-queues.subscription.js';
import { StoreDeadLetterHandler } from './store-dead-letter.handler.js';

/**
 * Consumes every dead letter queue of the topology with the library's raw consumer (manual ack after the
 * handler resolves, bounded prefetch), not through the Nest transport: that transport validates envelopes,
 * and a dead letter must be stored whatever its bytes are. The client restarts these consumers after every
 * reconnection. They share the service's breakers: while the database is down, dead letters wait in their
 * queues instead of cycling through the store's requeue loop.
 */
@Injectable()
export class DeadLetterQueuesConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly consumers: AmqpConsumer[] = [];

  constructor(
    private readonly amqp: AmqpClient,
    private readonly store: StoreDeadLetterHandler,
    private readonly metrics: ServiceMetrics,
    private readonly breakers: DependencyBreakers,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const logger = createLogger('audit');
    const metrics = this.metrics.messaging();
    for (const subscription of deadLetterQueueSubscriptions) {
      const consumer = new AmqpConsumer(
        this.amqp,
        subscription,
        (delivery) => this.store.handle(subscription.queue, delivery),
        { logger, metrics, breakers: this.breakers },
      );
      await this.amqp.addChannelUser(consumer);
      this.consumers.push(consumer);
    }
  }

  /** Stops taking dead letters and lets those in flight finish, before the database goes away. */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop()));
  }
}
