import { z } from 'zod';
import type { Envelope } from './envelope.js';
import { defineMessage, type MessageOf } from './message.js';
import { UserRegisteredV1 } from './orders.messages.v1.js';

// Messages produced by the orders service. Commands are imperative, events past tense.
// Amounts are integers in cents.

export const OrderItemSchema = z.object({
  sku: z.string().min(1).max(64),
  quantity: z.number().int().positive().max(1_000_000),
  unitPrice: z.number().int().positive().max(100_000_000),
});
export type OrderItem = z.infer<typeof OrderItemSchema>;

const orderItems = z.array(OrderItemSchema).min(1).max(100);

/** How an order's flow is run: by the saga orchestrator (the default) or by services reacting to each other's events. */
export const OrderFlowStyle = z.enum(['orchestrated', 'choreographed']);
export type OrderFlowStyle = z.infer<typeof OrderFlowStyle>;

/** Task on the `order-processing` queue: accepted by `POST /orders`, turned into an order by the worker. */
export const PlaceOrder = defineMessage(
  'order.place',
  1,
  z.object({
    orderId: z.uuid(),
    userId: z.string().min(1).max(64),
    items: orderItems,
    total: z.number().int().positive(),
    placedAt: z.iso.datetime({ offset: true }),
    /** Fingerprint of the HTTP request, so a reused Idempotency-Key with another body can be told apart. */
    requestHash: z.string().max(128).optional(),
    /** How the order's flow runs; absent means orchestrated (the saga). */
    flow: OrderFlowStyle.optional(),
  }),
);
export type PlaceOrder = MessageOf<typeof PlaceOrder>;

/** Event on the Kafka topic `order-events`, keyed by order id. Self-contained: consumers need no call back. */
export const OrderCreated = defineMessage(
  'order.created',
  1,
  z.object({
    orderId: z.uuid(),
    userId: z.string().min(1),
    items: orderItems,
    total: z.number().int().positive(),
  }),
);
export type OrderCreated = MessageOf<typeof OrderCreated>;

export const OrderConfirmed = defineMessage(
  'order.confirmed',
  1,
  z.object({ orderId: z.uuid(), userId: z.string().min(1), total: z.number().int().positive() }),
);
export type OrderConfirmed = MessageOf<typeof OrderConfirmed>;

export const CancellationReason = z.enum(['out_of_stock', 'payment_failed', 'timeout']);
export type CancellationReason = z.infer<typeof CancellationReason>;

export const OrderCancelled = defineMessage(
  'order.cancelled',
  1,
  z.object({
    orderId: z.uuid(),
    userId: z.string().min(1),
    total: z.number().int().positive(),
    reason: CancellationReason,
  }),
);
export type OrderCancelled = MessageOf<typeof OrderCancelled>;

export type OrderEvent = OrderCreated | OrderConfirmed | OrderCancelled;
export const orderEvents = [OrderCreated, OrderConfirmed, OrderCancelled] as const;

// Pattern: choreography (docs/choreography.md). Events of the choreographed order flow on the topic exchange
// `order-flow` (routing key: the type). Nobody commands anybody: each service reacts to the events it is bound to.

/** A choreographed order was stored: inventory reacts by reserving its items. Carries what later reactors need. */
export const OrderPlaced = defineMessage(
  'order.placed',
  1,
  z.object({
    orderId: z.uuid(),
    userId: z.string().min(1).max(64),
    items: orderItems,
    total: z.number().int().positive(),
  }),
);
export type OrderPlaced = MessageOf<typeof OrderPlaced>;

/**
 * A choreographed order passed its deadline before an outcome (orders owns the deadline): the order is cancelled
 * with reason `timeout`, and inventory and payments compensate whatever they did or may still do for it.
 */
export const OrderTimedOut = defineMessage(
  'order.timed-out',
  1,
  z.object({ orderId: z.uuid(), userId: z.string().min(1).max(64) }),
);
export type OrderTimedOut = MessageOf<typeof OrderTimedOut>;

export const orderFlowEvents = [OrderPlaced, OrderTimedOut] as const;

/** The locale a `user.registered` of version 1 implies: the shop spoke only English then. */
export const DEFAULT_LOCALE = 'en';

/** A BCP 47 language tag, such as `en`, `de-CH` or `pt-BR`. */
export const LocaleSchema = z
  .string()
  .max(35)
  .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, 'expected a BCP 47 language tag such as en or de-CH');

/**
 * Splits a full name at its first run of whitespace: `Ann Lee` → [`Ann`, `Lee`], `Ann` → [`Ann`, ``]. The rule
 * of the `user.registered` v1 → v2 upcaster; `POST /users {name}` applies the same one, so that a v1 message
 * replayed after the upgrade and a v2 message sent for the same name carry the same first and last name.
 */
export function splitName(name: string): [firstName: string, lastName: string] {
  const trimmed = name.trim();
  if (!trimmed) return [name, ''];
  const gap = /\s+/.exec(trimmed);
  return gap ? [trimmed.slice(0, gap.index), trimmed.slice(gap.index + gap[0].length)] : [trimmed, ''];
}

/**
 * Event on the fanout exchange `user-events`, version 2 (breaking: `name` became `firstName` and `lastName`,
 * and `locale` is new and required). Version 1 is kept in `orders.messages.v1.ts`; consumers read both and see
 * only version 2, through {@link upcastUserRegistered}. The walk-through is docs/schema-evolution.md.
 */
const UserRegisteredData = z.object({
  userId: z.string().min(1).max(64),
  email: z.email(),
  firstName: z.string().min(1).max(200),
  /** Empty for a person with one name. */
  lastName: z.string().max(200),
  locale: LocaleSchema,
});
export type UserRegisteredV2 = Envelope<'user.registered', z.output<typeof UserRegisteredData>, 2>;

/** Pattern: upcaster. Lifts any version of `user.registered` to version 2; version 2 passes unchanged. */
export function upcastUserRegistered(event: UserRegisteredV1 | UserRegisteredV2): UserRegisteredV2 {
  switch (event.version) {
    case 1: {
      const { name, ...rest } = event.data;
      const [firstName, lastName] = splitName(name);
      return { ...event, version: 2, data: { ...rest, firstName, lastName, locale: DEFAULT_LOCALE } };
    }
    case 2:
      return event;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

export const UserRegistered = defineMessage('user.registered', 2, UserRegisteredData, {
  from: [UserRegisteredV1],
  upcast: upcastUserRegistered,
});
export type UserRegistered = MessageOf<typeof UserRegistered>;

export type UserEvent = UserRegistered;
export const userEvents = [UserRegistered] as const;

// Saga commands, sent by the order saga orchestrator to the `saga-commands` exchange.
// Each carries everything its handler needs (self-contained), and the saga id that its reply must quote.

export const ReserveInventory = defineMessage(
  'inventory.reserve',
  1,
  z.object({ sagaId: z.uuid(), orderId: z.uuid(), items: orderItems }),
);
export type ReserveInventory = MessageOf<typeof ReserveInventory>;

/** Compensation of `inventory.reserve`. Idempotent; also refuses a reservation for the order that arrives later. */
export const ReleaseInventory = defineMessage(
  'inventory.release',
  1,
  z.object({ sagaId: z.uuid(), orderId: z.uuid() }),
);
export type ReleaseInventory = MessageOf<typeof ReleaseInventory>;

export const ProcessPayment = defineMessage(
  'payment.process',
  1,
  z.object({ sagaId: z.uuid(), orderId: z.uuid(), userId: z.string().min(1), amount: z.number().int().positive() }),
);
export type ProcessPayment = MessageOf<typeof ProcessPayment>;

/** Compensation of `payment.process`. Idempotent; refunds a payment, or voids one that has not happened yet. */
export const RefundPayment = defineMessage(
  'payment.refund',
  1,
  z.object({ sagaId: z.uuid(), orderId: z.uuid(), userId: z.string().min(1) }),
);
export type RefundPayment = MessageOf<typeof RefundPayment>;

export type SagaCommand = ReserveInventory | ReleaseInventory | ProcessPayment | RefundPayment;
export const sagaCommands = [ReserveInventory, ReleaseInventory, ProcessPayment, RefundPayment] as const;

// Pattern: request/reply (docs/request-reply.md). A query of orders to inventory on the `queries` exchange: how
// much of a SKU is available, and is it enough for `quantity`. Answered by `inventory.stock-checked` on the
// requesting process's reply queue.

export const CheckStock = defineMessage(
  'inventory.check-stock',
  1,
  z.object({ sku: z.string().min(1).max(64), quantity: z.number().int().min(1).max(1_000_000_000) }),
);
export type CheckStock = MessageOf<typeof CheckStock>;
