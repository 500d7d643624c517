import { createHash } from 'node:crypto';
import { z } from 'zod';
import { OrderFlowStyle, OrderItemSchema } from '@am/contracts';

/**
 * Largest order total, in cents (10 billion units of currency): far inside the integers JavaScript computes
 * exactly (2^53), so the total, a balance and a refund are never rounded.
 */
export const MAX_ORDER_TOTAL = 1_000_000_000_000;

/**
 * Body of `POST /orders`. Strict: an unknown field is an error, not something silently dropped. `flow` chooses how
 * the order runs: `orchestrated` (the saga, the default) or `choreographed` (docs/choreography.md).
 */
export const PlaceOrderRequest = z
  .strictObject({
    userId: z.uuid(),
    items: z.array(z.strictObject(OrderItemSchema.shape)).min(1, 'an order needs at least one item').max(100),
    flow: OrderFlowStyle.optional(),
  })
  .refine((request) => request.items.reduce((sum, i) => sum + i.quantity * i.unitPrice, 0) <= MAX_ORDER_TOTAL, {
    message: `the order total (quantity × unitPrice, summed) must be at most ${MAX_ORDER_TOTAL} cents`,
    path: ['items'],
  });
export type PlaceOrderRequest = z.infer<typeof PlaceOrderRequest>;

/** The `Idempotency-Key` header: an opaque client-chosen string. */
export const IdempotencyKey = z.string().trim().min(1).max(200);

export const orderTotal = (items: PlaceOrderRequest['items']) =>
  items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0);

/**
 * The order id a (user, Idempotency-Key) pair always names: a name-based UUID (version 5 layout) from SHA-1,
 * so a repeated request maps to the same order without a lookup table.
 */
export function orderIdFor(userId: string, key: string): string {
  const hash = createHash('sha1').update(`order:${userId}:${key}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
