import { z } from 'zod';
import { defineMessage, type MessageOf } from './message.js';

// Messages produced by the orders service. Commands are imperative, events past tense.
// Amounts are integers in cents.

export const OrderItemSchema = z.object({
  sku: z.string().min(1).max(64),
  quantity: z.number().int().positive().max(1_000_000),
  unitPrice: z.number().int().positive().max(100_000_000),
});
export type OrderItem = z.infer<typeof OrderItemSchema>;

const orderItems = z.array(OrderItemSchema).min(1).max(100);

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

/** Event on the fanout exchange `user-events`. */
export const UserRegistered = defineMessage(
  'user.registered',
  1,
  z.object({ userId: z.string().min(1).max(64), email: z.email(), name: z.string().min(1).max(200) }),
);
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
