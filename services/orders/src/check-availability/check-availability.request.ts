import { z } from 'zod';

/** `GET /availability/:sku?quantity=N`: the SKU as an order item's, the quantity as an order item's (default 1). */
export const CheckAvailabilityRequest = z.strictObject({
  sku: z.string().min(1, 'a SKU has 1 to 64 characters').max(64, 'a SKU has 1 to 64 characters'),
  quantity: z
    .string()
    .regex(/^[0-9]{1,7}$/, 'quantity must be a whole number from 1 to 1000000')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 1_000_000, 'quantity must be a whole number from 1 to 1000000')
    .default(1),
});
export type CheckAvailabilityRequest = z.infer<typeof CheckAvailabilityRequest>;
