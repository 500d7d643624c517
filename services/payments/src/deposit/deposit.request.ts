import { z } from 'zod';

/** Body of `POST /accounts/:userId/deposits`. Strict: an unknown field is an error. Cents, so an integer. */
export const DepositRequest = z.strictObject({
  amount: z.number().int('amount must be whole cents').positive(),
});
export type DepositRequest = z.infer<typeof DepositRequest>;
