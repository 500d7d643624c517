import { z } from 'zod';
import { OrderItemSchema } from '@am/contracts';

/**
 * Body of `POST /reservations`: the order and its items (the unit price is accepted, as the orders service
 * sends its items as they are, but inventory ignores it). Strict: an unknown field is an error.
 */
export const ReserveStockSyncRequest = z.strictObject({
  orderId: z.uuid(),
  items: z
    .array(
      z.strictObject({
        sku: OrderItemSchema.shape.sku,
        quantity: OrderItemSchema.shape.quantity,
        unitPrice: OrderItemSchema.shape.unitPrice.optional(),
      }),
    )
    .min(1, 'a reservation needs at least one item')
    .max(100),
});
export type ReserveStockSyncRequest = z.infer<typeof ReserveStockSyncRequest>;

/** The `:orderId` of `POST /reservations/:orderId/release`. */
export const OrderIdParam = z.uuid();
