import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DependencyBreakers, KafkaClient, KafkaGroupConsumer, KafkaMembers, readHeaders } from '@am/messaging';
import { ServiceMetrics, createLogger } from '@am/observability';
import { deadLetterTopicSubscription } from './dead-letter-topic.subscription.js';
import { StoreDeadLetterHandler } from './store-dead-letter.handler.js';

/**
 * Reads the Kafka dead letter topic with the library's group consumer (the offset is committed after the record
 * was stored) and stores each record with `StoreDeadLetterHandler`, beside the dead letter queues' letters. Not
 * through the service's Kafka transport, which validates envelopes: a dead letter need not be one.
 */
@Injectable()
export class DeadLetterTopicConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private consumer?: KafkaGroupConsumer;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly store: StoreDeadLetterHandler,
    private readonly metrics: ServiceMetrics,
    private readonly breakers: DependencyBreakers,
    private readonly members: KafkaMembers,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = new KafkaGroupConsumer(
      this.kafka,
      deadLetterTopicSubscription,
      (message, partition) =>
        this.store.handleTopicRecord(
          {
            partition,
            offset: message.offset,
            timestamp: message.timestamp,
            key: message.key?.toString() ?? '',
            value: message.value ?? Buffer.alloc(0),
            headers: readHeaders(message.headers),
          },
          this.kafka.prefix,
        ),
      { logger: createLogger('audit'), metrics: this.metrics.messaging(), breakers: this.breakers },
    );
    // Watched like the transport's members: a crash turns /health red until it has joined again; its lag is measured.
    this.members.add(this.consumer);
    await this.consumer.start();
  }

  /** Stops reading before the database goes away; a record in flight is read again by the next start. */
  async onApplicationShutdown(): Promise<void> {
    if (this.consumer) this.members.delete(this.consumer);
    await this.consumer?.stop();
  }
}
