import { z } from 'zod';
import { defineMessage, type MessageOf } from './message.js';

// Replies of the inventory service to the order saga, on the `saga-replies` exchange; the same types are the
// events of the choreographed flow on `order-flow`, where `sagaId` carries the order id (there is no saga).

export const InventoryReserved = defineMessage(
  'inventory.reserved',
  1,
  z.object({
    sagaId: z.uuid(),
    orderId: z.uuid(),
    /** Choreographed flow only: who pays and how much, carried over from `order.placed` for payments. */
    userId: z.string().min(1).max(64).optional(),
    amount: z.number().int().positive().optional(),
  }),
);
export type InventoryReserved = MessageOf<typeof InventoryReserved>;

export const InventoryReservationFailed = defineMessage(
  'inventory.reservation-failed',
  1,
  z.object({
    sagaId: z.uuid(),
    orderId: z.uuid(),
    reason: z.enum(['out_of_stock', 'released']),
    /** The SKUs that were short, for the customer and for analytics. */
    shortSkus: z.array(z.string()).default([]),
  }),
);
export type InventoryReservationFailed = MessageOf<typeof InventoryReservationFailed>;

export type InventoryReply = InventoryReserved | InventoryReservationFailed;
export const inventoryReplies = [InventoryReserved, InventoryReservationFailed] as const;

// Pattern: request/reply. Inventory's answer to `inventory.check-stock`, through the `replies` exchange to the
// reply queue the request names; its correlation id is the request's. `available` is 0 for a SKU never stocked.

export const StockChecked = defineMessage(
  'inventory.stock-checked',
  1,
  z.object({
    sku: z.string().min(1).max(64),
    quantity: z.number().int().min(1),
    available: z.number().int().min(0),
    enough: z.boolean(),
  }),
);
export type StockChecked = MessageOf<typeof StockChecked>;
