import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  InventoryReserved,
  OrderConfirmed,
  PaymentCompleted,
  PlaceOrder,
  ProcessPayment,
  RefundPayment,
  ReleaseInventory,
  ReserveInventory,
  SendMail,
  UserRegistered,
  type MessageDefinition,
} from '@am/contracts';
import { KafkaHeaders, type KafkaRecord } from '../kafka/kafka-client.js';
import {
  Exchanges,
  Queues,
  SAGA_REPLY_KEY,
  Topics,
  deadLetterQueue,
  exchanges,
  queues,
  topics,
  type ServiceName,
} from '../topology.js';

/**
 * Pattern: poison message. A message its consumers can never handle, however often they try: it must go to the dead
 * letter queue (or topic) at once, with the reason, and the messages around it must go on as if it had not been
 * there. The fault buttons send one on purpose (`POST /faults/poison`), from the service that publishes to the
 * destination, through its own connection and account (no permission is added for it), so the consumers see it
 * exactly as they would see a bug of that publisher:
 *
 * - `unparseable`: the body is not JSON (a truncated write, a publisher that sends something else);
 * - `invalid-payload`: a well-formed envelope of a type the consumers know, whose `data` fails the type's schema;
 * - `unknown-type`: a well-formed envelope of a type nobody here knows (a producer deployed before its consumers).
 *
 * Each carries the type its destination takes in its AMQP `type` property (or Kafka `event-type` header), so the
 * validated sender check passes and the consumer's own validation is what refuses it; its correlation id starts with
 * `poison-`, so its story and its dead letters are found by it.
 */
export const POISON_VARIANTS = ['unparseable', 'invalid-payload', 'unknown-type'] as const;
export type PoisonVariant = (typeof POISON_VARIANTS)[number];

/** The body of `POST /faults/poison`. */
export const PoisonRequest = z.strictObject({
  destination: z.string().min(1).max(255),
  variant: z.enum(POISON_VARIANTS),
});
export type PoisonRequest = z.infer<typeof PoisonRequest>;

/** Where a service may send a poison message: an exchange (with a routing key) or a topic it publishes to. */
export interface PoisonDestination {
  /** `exchange` (fanout, headers), `exchange/routing-key` (direct), or a topic's name. */
  destination: string;
  broker: 'rabbitmq' | 'kafka';
  exchange?: string;
  routingKey?: string;
  topic?: string;
  /** The message type the destination carries (an invalid payload is one of this type). */
  messageType: string;
  /** What receives a copy, each of which dead-letters its own: queues, or `topic/group` for Kafka groups. */
  reaches: string[];
  /** Where those copies end up: dead letter queues, or the dead letter topic. */
  deadLetters: string[];
}

/**
 * The destinations each service publishes business messages to, with the type each carries. Request/reply (a query
 * nobody waits for expires), the failure exchanges, audit's replays and `order-metrics` (no consumer) are not here;
 * nor is `account-events`: its only group dead-letters to `account-events.dlt`, which the topology does not define
 * (docs/console.md#fault-buttons says why that matters).
 */
const PUBLISHED: Record<
  ServiceName,
  { exchange?: string; routingKey?: string; topic?: string; type: MessageDefinition }[]
> = {
  orders: [
    { exchange: Exchanges.userEvents, type: UserRegistered },
    { exchange: Exchanges.orderTasks, routingKey: Queues.orderProcessing, type: PlaceOrder },
    { exchange: Exchanges.sagaCommands, routingKey: Queues.inventoryReserve, type: ReserveInventory },
    { exchange: Exchanges.sagaCommands, routingKey: Queues.inventoryRelease, type: ReleaseInventory },
    { exchange: Exchanges.sagaCommands, routingKey: Queues.paymentProcess, type: ProcessPayment },
    { exchange: Exchanges.sagaCommands, routingKey: Queues.paymentRefund, type: RefundPayment },
    { topic: Topics.orderEvents, type: OrderConfirmed },
  ],
  inventory: [{ exchange: Exchanges.sagaReplies, routingKey: SAGA_REPLY_KEY, type: InventoryReserved }],
  payments: [{ exchange: Exchanges.sagaReplies, routingKey: SAGA_REPLY_KEY, type: PaymentCompleted }],
  email: [{ exchange: Exchanges.mail, type: SendMail }],
  analytics: [],
  audit: [],
};

/** The queues an exchange delivers a message with `routingKey` to (every bound queue for fanout and headers). */
function boundQueues(exchange: string, routingKey: string | undefined): string[] {
  const spec = exchanges.find((e) => e.name === exchange);
  return queues
    .filter((q) =>
      q.bindings.some(
        (b) =>
          // A headers binding with no matching header sends the message to the alternate exchange's queue.
          (b.exchange === exchange && (spec?.type !== 'direct' || b.routingKey === routingKey) && !b.headers) ||
          (spec?.alternateExchange !== undefined && b.exchange === spec.alternateExchange),
      ),
    )
    .map((q) => q.name);
}

/** Where `service` may send a poison message, and who will dead-letter it. */
export function poisonDestinations(service: ServiceName): PoisonDestination[] {
  return PUBLISHED[service].map(({ exchange, routingKey, topic, type }) => {
    if (topic !== undefined) {
      const spec = topics.find((t) => t.name === topic);
      return {
        destination: topic,
        broker: 'kafka',
        topic,
        messageType: type.type,
        reaches: (spec?.groups ?? []).map((g) => `${topic}/${g.groupId}`),
        deadLetters: [Topics.orderEventsDeadLetters],
      };
    }
    const reached = boundQueues(exchange!, routingKey);
    return {
      destination: routingKey === undefined ? exchange! : `${exchange}/${routingKey}`,
      broker: 'rabbitmq',
      exchange: exchange!,
      routingKey: routingKey ?? '',
      messageType: type.type,
      reaches: reached,
      deadLetters: reached.map(deadLetterQueue),
    };
  });
}

/** One poison message, ready to publish: its ids, the AMQP properties' type, and its bytes. */
export interface PoisonMessage {
  messageId: string;
  correlationId: string;
  /** The type its AMQP `type` property (or Kafka `event-type` header) claims. */
  type: string;
  body: Buffer;
}

/** Builds the poison message of `variant` for `destination`. */
export function poisonMessage(destination: PoisonDestination, variant: PoisonVariant): PoisonMessage {
  const messageId = randomUUID();
  const correlationId = `poison-${randomUUID()}`;
  const envelope = (type: string, data: unknown) => ({
    messageId,
    type,
    version: 1,
    occurredAt: new Date().toISOString(),
    correlationId,
    causationId: null,
    data,
  });
  const definitionVersion = versionOf(destination.messageType);
  const body =
    variant === 'unparseable'
      ? // An envelope cut off in the middle: not JSON.
        Buffer.from(`{"messageId":"${messageId}","type":"${destination.messageType}","data":{"poison":`)
      : variant === 'invalid-payload'
        ? Buffer.from(
            JSON.stringify({
              ...envelope(destination.messageType, { poison: 'this data matches no field of its type' }),
              version: definitionVersion,
            }),
          )
        : Buffer.from(JSON.stringify(envelope('poison.unknown-type', { poison: true })));
  return { messageId, correlationId, type: destination.messageType, body };
}

/** The Kafka record of a poison message (keyed by its correlation id). */
export function poisonRecord(topic: string, message: PoisonMessage): KafkaRecord {
  return {
    topic,
    key: message.correlationId,
    value: message.body,
    headers: {
      [KafkaHeaders.eventType]: message.type,
      [KafkaHeaders.correlationId]: message.correlationId,
      [KafkaHeaders.messageId]: message.messageId,
    },
  };
}

const DEFINITIONS = Object.values(PUBLISHED).flatMap((list) => list.map((p) => p.type));

/** The newest version of a type of the table above (an invalid payload claims it, so only its data is wrong). */
function versionOf(type: string): number {
  return DEFINITIONS.find((d) => d.type === type)?.version ?? 1;
}
