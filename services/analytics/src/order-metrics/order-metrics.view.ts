import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Consumer } from 'kafkajs';
import { KafkaClient, Topics } from '@am/messaging';
import { sumDeltas, type MinuteDelta } from './order-metrics.aggregate.js';

/** The prefix of the view's throwaway groups (granted by prefix: kafka-acls.ts). */
export const ORDER_METRICS_VIEW_GROUP_PREFIX = 'analytics-metrics-view-';

/**
 * The reader of `order-metrics`, the exactly-once loop's output (pattern: a materialized view of a topic). Each
 * instance reads the topic from the start in a throwaway group of its own and never commits: the topic is the source
 * of truth, and the view is rebuilt from it at every start. It reads with `read_committed` (kafkajs' default): the
 * records of a transaction the loop aborted, or that a crash left open, are never added, which is what makes the
 * loop exactly-once for its readers.
 */
@Injectable()
export class OrderMetricsView implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OrderMetricsView.name);
  private readonly minutes = new Map<string, MinuteDelta>();
  private consumer?: Consumer;
  private records = 0;

  constructor(private readonly kafka: KafkaClient) {}

  async onApplicationBootstrap(): Promise<void> {
    const consumer = this.kafka.kafka.consumer({
      groupId: this.kafka.name(`${ORDER_METRICS_VIEW_GROUP_PREFIX}${randomUUID()}`),
      readUncommitted: false,
      allowAutoTopicCreation: false,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.kafka.name(Topics.orderMetrics), fromBeginning: true });
    this.consumer = consumer;
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (!message.value) return;
        const delta = JSON.parse(message.value.toString()) as MinuteDelta;
        const sum = this.minutes.get(delta.minute);
        this.minutes.set(delta.minute, sum ? { minute: delta.minute, ...sumDeltas([sum, delta]) } : delta);
        this.records += 1;
      },
    });
  }

  /** Every minute seen, oldest first, and their sum. */
  snapshot(): { records: number; minutes: MinuteDelta[]; total: ReturnType<typeof sumDeltas> } {
    const minutes = [...this.minutes.values()].sort((a, b) => a.minute.localeCompare(b.minute));
    return { records: this.records, minutes, total: sumDeltas(minutes) };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.disconnect().catch((error: Error) => this.logger.warn(error.message));
  }
}
