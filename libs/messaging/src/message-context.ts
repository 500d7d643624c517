import type { EntityManager } from 'typeorm';
import type { Envelope } from '@am/contracts';
import type { OutboxMessage } from '@am/persistence';
import { DEFAULT_EXCHANGE } from './topology.js';

/** Where a message should go, with its broker. Build with `toQueue`, `toExchange` or `toTopic`. */
export type Destination = OutboxMessage['destination'];

export const toQueue = (queue: string): Destination => ({
  broker: 'amqp',
  exchange: DEFAULT_EXCHANGE,
  routingKey: queue,
});
export const toExchange = (exchange: string, routingKey = ''): Destination => ({
  broker: 'amqp',
  exchange,
  routingKey,
});
export const toTopic = (topic: string, key: string): Destination => ({ broker: 'kafka', topic, key });

/**
 * What a handler gets beside the message: the transaction it runs in (the inbox row is already in it) and
 * `send`, which puts outgoing messages in the outbox of that same transaction. A handler never talks to a
 * broker itself.
 */
export class MessageContext {
  readonly outgoing: OutboxMessage[] = [];

  constructor(
    readonly manager: EntityManager,
    readonly message: Envelope,
    readonly source: string,
    /**
     * The RabbitMQ account that published the message (its AMQP `user-id`, which the broker checks against the
     * publishing connection's user). Undefined on Kafka and for a message published without one.
     */
    readonly sender?: string,
  ) {}

  /**
   * Adds a message to the outbox of this transaction. `headers` go out as AMQP headers (or Kafka record headers)
   * beside the trace context: what a headers exchange routes by.
   */
  send(destination: Destination, envelope: Envelope, headers?: Record<string, string>): void {
    this.outgoing.push({
      destination,
      messageId: envelope.messageId,
      type: envelope.type,
      payload: envelope,
      ...(headers ? { headers } : {}),
    });
  }
}
