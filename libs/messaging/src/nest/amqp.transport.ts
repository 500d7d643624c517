import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { DataSource } from 'typeorm';
import type { MessageCatalog } from '@am/contracts';
import type { AmqpClient } from '../amqp/amqp-client.js';
import { AmqpConsumer, withDeliveryContext } from '../amqp/amqp-consumer.js';
import { validateSubscription, type AmqpSubscription } from '../amqp/amqp-subscription.js';
import {
  duplicateCounter,
  handleMessage,
  handleMessages,
  type EnvelopeHandler,
  type HandleMessageOptions,
} from '../handle-message.js';
import type { MessagingLogger } from '../logger.js';
import { RateLimiter } from '../rate-limiter.js';
import type { MessagingMetrics } from '../metrics.js';
import type { DependencyBreakers } from '../outage/dependency-breakers.js';

export interface AmqpTransportOptions {
  client: AmqpClient;
  dataSource: DataSource;
  subscriptions: { subscription: AmqpSubscription; catalog: MessageCatalog }[];
  logger?: MessagingLogger;
  metrics?: MessagingMetrics;
  /** The service's breakers, shared by all its consumers. */
  breakers?: DependencyBreakers;
}

/** Looks up the Nest handler of a message type and turns whatever it returns into one awaited promise. */
export function nestHandlerLookup(server: Server, type: string): EnvelopeHandler | undefined {
  const handler = server.getHandlerByPattern(type);
  if (!handler) return undefined;
  return async (message, context): Promise<unknown> => {
    const result: unknown = await handler(message, context);
    return lastValueFrom(server.transformToObservable(result), { defaultValue: undefined });
  };
}

/**
 * A Nest transport strategy for RabbitMQ that keeps the delivery rules of DESIGN.md, which the built-in RMQ
 * transport does not (it defaults to auto-ack, non-persistent messages, unbounded prefetch, and has no retry
 * or dead-letter path). Handlers are ordinary `@EventPattern('<message type>')` methods; the transport
 * validates, deduplicates (inbox), runs the handler in a transaction, and only then acknowledges. Nest's
 * `handleEvent` does not wait for the handler, so the handler is looked up and awaited here instead.
 */
export class AmqpTransport extends Server implements CustomTransportStrategy {
  private readonly consumers: AmqpConsumer[] = [];

  constructor(private readonly options: AmqpTransportOptions) {
    super();
    for (const { subscription } of options.subscriptions) validateSubscription(subscription);
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      for (const { subscription, catalog } of this.options.subscriptions) {
        const limiter = subscription.maxPerSecond ? new RateLimiter(subscription.maxPerSecond) : undefined;
        const handling: HandleMessageOptions = {
          dataSource: this.options.dataSource,
          consumer: subscription.queue,
          catalog,
          findHandler: (type) => nestHandlerLookup(this, `${subscription.handlerPrefix ?? ''}${type}`),
          logger: this.options.logger,
          ...duplicateCounter(this.options.metrics, subscription.queue),
        };
        const consumer = new AmqpConsumer(
          this.options.client,
          subscription,
          async (delivery) => {
            await limiter?.take();
            await handleMessage(handling, delivery.content, delivery.properties.userId as string | undefined);
          },
          {
            logger: this.options.logger,
            metrics: this.options.metrics,
            breakers: this.options.breakers,
            handleBatch: async (deliveries) => {
              for (let i = 0; i < deliveries.length; i++) await limiter?.take();
              await handleMessages(
                handling,
                deliveries.map((d) => d.content),
                (index, work) => withDeliveryContext(subscription.queue, deliveries[index]!, work),
                deliveries.map((d) => d.properties.userId as string | undefined),
              );
            },
          },
        );
        await this.options.client.addChannelUser(consumer);
        this.consumers.push(consumer);
      }
      callback();
    } catch (error) {
      callback(error);
    }
  }

  on(): never {
    throw new Error('AmqpTransport does not emit events');
  }

  unwrap<T>(): T {
    return this.options.client as T;
  }

  async close(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop()));
  }
}
