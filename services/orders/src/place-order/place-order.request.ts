import { z } from 'zod';
import { OrderItemSchema } from '@am/contracts';

/** Body of `POST /orders`. Strict: an unknown field is an error, not something silently dropped. */
export const PlaceOrderRequest = z.strictObject({
  userId: z.uuid(),
  items: z.array(z.strictObject(OrderItemSchema.shape)).min(1, 'an order needs at least one item').max(100),
});
export type PlaceOrderRequest = z.infer<typeof PlaceOrderRequest>;

export const orderTotal = (items: PlaceOrderRequest['items']) =>
  items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0);
