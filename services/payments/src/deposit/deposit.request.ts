import { z } from 'zod';

/** Largest single deposit, in cents (one billion units of currency). */
export const MAX_DEPOSIT = 100_000_000_000;

/** Body of `POST /accounts/:userId/deposits`. Strict: an unknown field is an error. Cents, so an integer. */
export const DepositRequest = z.strictObject({
  amount: z
    .number()
    .int('amount must be whole cents')
    .positive()
    // Like a payment's: a balance stays far inside the integers JavaScript computes exactly (2^53).
    .max(MAX_DEPOSIT, `amount must be at most ${MAX_DEPOSIT} cents`),
});
export type DepositRequest = z.infer<typeof DepositRequest>;
