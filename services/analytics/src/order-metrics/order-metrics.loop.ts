import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Consumer, Producer } from 'kafkajs';
import { MessageCatalog, orderEvents, type OrderEvent } from '@am/contracts';
import { KafkaClient, Topics, failpoint } from '@am/messaging';
import { aggregateByMinute } from './order-metrics.aggregate.js';

/** Consumer group of the loop; its committed offsets move only inside the loop's transactions. */
export const ORDER_METRICS_GROUP = 'order-metrics';

/**
 * The article's exactly-once loop (pattern: consume-transform-produce in one Kafka transaction). For each batch
 * of `order-events` it produces per-minute deltas to `order-metrics` and commits the batch's offsets in the same
 * transaction: either both happen or neither. A crash mid-transaction leaves aborted records that
 * `read_committed` readers never see, and the batch is consumed again from the last committed offset.
 *
 * The transactional id is stable per instance (`INSTANCE_ID`), so a restarted instance fences its own zombie.
 * kafkajs does not implement group-based fencing (KIP-447): with several instances, a rebalance in the middle of
 * a transaction is not fenced across instances. One instance per group is the supported setting here.
 */
@Injectable()
export class OrderMetricsLoop implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OrderMetricsLoop.name);
  private readonly catalog = new MessageCatalog([...orderEvents]);
  private consumer?: Consumer;
  private producer?: Producer;

  constructor(private readonly kafka: KafkaClient) {}

  async onApplicationBootstrap(): Promise<void> {
    const producer = this.kafka.kafka.producer({
      transactionalId: this.kafka.name(`analytics-order-metrics-${process.env.INSTANCE_ID ?? 'main'}`),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const consumer = this.kafka.consumer(ORDER_METRICS_GROUP);
    await consumer.connect();
    await consumer.subscribe({ topic: this.kafka.name(Topics.orderEvents), fromBeginning: true });
    this.producer = producer;
    this.consumer = consumer;
    await consumer.run({
      autoCommit: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const events: OrderEvent[] = [];
        for (const message of batch.messages) {
          const parsed = message.value ? this.catalog.parse(message.value) : undefined;
          if (parsed?.ok) events.push(parsed.message);
        }
        const transaction = await producer.transaction();
        try {
          const deltas = aggregateByMinute(events);
          if (deltas.length > 0) {
            await transaction.send({
              topic: this.kafka.name(Topics.orderMetrics),
              messages: deltas.map((d) => ({ key: d.minute, value: JSON.stringify(d) })),
            });
          }
          await transaction.sendOffsets({
            consumerGroupId: this.kafka.name(ORDER_METRICS_GROUP),
            topics: [
              {
                topic: batch.topic,
                partitions: [{ partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }],
              },
            ],
          });
          failpoint('metrics-before-commit');
          await transaction.commit();
        } catch (error) {
          await transaction.abort().catch(() => undefined);
          throw error;
        }
        await payload.heartbeat();
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.disconnect().catch((error: Error) => this.logger.warn(error.message));
    await this.producer?.disconnect().catch(() => undefined);
  }
}
