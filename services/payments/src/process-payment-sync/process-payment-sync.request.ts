import { z } from 'zod';

/** Body of `POST /payments`: withdraw `amount` cents from the account of `userId` for `orderId`. Strict. */
export const ProcessPaymentSyncRequest = z.strictObject({
  orderId: z.uuid(),
  userId: z.string().min(1).max(64),
  amount: z.number().int().positive().max(100_000_000_000),
});

/** Body of `POST /payments/:orderId/refund`. */
export const RefundPaymentSyncRequest = z.strictObject({ userId: z.string().min(1).max(64) });

/** The `:orderId` route parameter. */
export const OrderIdParam = z.uuid();
