import { z } from 'zod';

/** Largest quantity a PUT may set: far below the `integer` column's limit, so `reserved` has room to grow. */
export const MAX_STOCK_QUANTITY = 1_000_000_000;

/** The `:sku` of the stock routes: the same bounds as an order item's SKU. */
export const SkuParam = z.string().min(1, 'a SKU has 1 to 64 characters').max(64, 'a SKU has 1 to 64 characters');

/** Body of `PUT /stock/:sku`. Strict: an unknown field is an error, not something silently dropped. */
export const SetStockRequest = z.strictObject({
  quantity: z
    .number('quantity must be a number')
    .int('quantity must be a whole number')
    .min(0, 'quantity must be 0 or more')
    .max(MAX_STOCK_QUANTITY, `quantity must be at most ${MAX_STOCK_QUANTITY}`),
});
export type SetStockRequest = z.infer<typeof SetStockRequest>;
