import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import type { DataSource } from 'typeorm';
import type { MessageCatalog } from '@am/contracts';
import { duplicateCounter, handleMessage } from '../handle-message.js';
import type { KafkaClient } from '../kafka/kafka-client.js';
import { KafkaGroupConsumer, type KafkaMember } from '../kafka/kafka-consumer.js';
import { KafkaProjectionConsumer, type KafkaProjection } from '../kafka/kafka-projection-consumer.js';
import type { KafkaSubscription } from '../kafka/kafka-subscription.js';
import type { MessagingLogger } from '../logger.js';
import type { MessagingMetrics } from '../metrics.js';
import type { DependencyBreakers } from '../outage/dependency-breakers.js';
import { InvalidMessageError } from '../errors.js';
import { nestHandlerLookup } from './amqp.transport.js';

export interface KafkaTransportOptions {
  client: KafkaClient;
  dataSource: DataSource;
  subscriptions: { subscription: KafkaSubscription; catalog: MessageCatalog }[];
  /** Read models fed in batches with their offsets kept in their own tables (no inbox, no Nest handler). */
  projections?: KafkaProjection[];
  logger?: MessagingLogger;
  metrics?: MessagingMetrics;
  /** The service's breakers, shared by all its consumers. */
  breakers?: DependencyBreakers;
}

/**
 * A Nest transport strategy for Kafka consumer groups. Unlike the built-in Kafka transport, a record that
 * keeps failing goes to the dead letter topic after bounded retries instead of blocking its partition, and
 * every record passes validation and the inbox before its handler runs.
 */
export class KafkaTransport extends Server implements CustomTransportStrategy {
  private readonly consumers: KafkaMember[] = [];

  constructor(private readonly options: KafkaTransportOptions) {
    super();
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      for (const { subscription, catalog } of this.options.subscriptions) {
        const consumer = new KafkaGroupConsumer(
          this.options.client,
          subscription,
          async (record) => {
            if (!record.value) throw new InvalidMessageError('empty record');
            await handleMessage(
              {
                dataSource: this.options.dataSource,
                consumer: `${subscription.topic}/${subscription.groupId}`,
                catalog,
                findHandler: (type) => nestHandlerLookup(this, type),
                logger: this.options.logger,
                ...duplicateCounter(this.options.metrics, subscription.topic),
              },
              record.value,
            );
          },
          { logger: this.options.logger, metrics: this.options.metrics, breakers: this.options.breakers },
        );
        await consumer.start();
        this.consumers.push(consumer);
      }
      for (const projection of this.options.projections ?? []) {
        const consumer = new KafkaProjectionConsumer(this.options.client, projection, this.options.dataSource, {
          logger: this.options.logger,
          metrics: this.options.metrics,
          breakers: this.options.breakers,
        });
        await consumer.start();
        this.consumers.push(consumer);
      }
      callback();
    } catch (error) {
      callback(error);
    }
  }

  get isRunning(): boolean {
    return this.consumers.every((c) => c.isRunning);
  }

  on(): never {
    throw new Error('KafkaTransport does not emit events');
  }

  unwrap<T>(): T {
    return this.options.client as T;
  }

  async close(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop()));
  }
}
