import type { PaymentFailed } from '@am/contracts';
import type { AccountErrorCode } from '../accounts/account.events.js';

// What `payment.process` and `payment.refund` do for an order, given what is already recorded for it. Pure:
// the saga may send each command more than once, and in either order, so these rules are the whole story of
// "at most one effect per order" and each is a unit test (`payment.decide.unit.spec.ts`).

/** The four states of the `payments` row of one order. */
export type PaymentStatus = 'COMPLETED' | 'FAILED' | 'REFUNDED' | 'VOIDED';

/** Why a payment failed, as the saga is told (`payment.failed`). */
export type PaymentFailureReason = PaymentFailed['data']['reason'];

/** The `payments` row of one order. A VOIDED tombstone has no amount: the refund came before any payment. */
export type PaymentRecord =
  | { orderId: string; accountId: string; status: 'COMPLETED' | 'REFUNDED'; amount: number }
  | { orderId: string; accountId: string; status: 'FAILED'; amount: number; reason: PaymentFailureReason }
  | { orderId: string; accountId: string; status: 'VOIDED'; amount: number | null };

/** The answer the saga gets for an order's payment. */
export type PaymentOutcome =
  { outcome: 'completed'; amount: number } | { outcome: 'failed'; reason: PaymentFailureReason };

/** `payment.process`: withdraw (nothing recorded yet), or repeat the answer already given. */
export type ProcessDecision = { action: 'withdraw' } | { action: 'reply'; reply: PaymentOutcome };

export function decideProcess(record: PaymentRecord | undefined): ProcessDecision {
  if (!record) return { action: 'withdraw' };
  switch (record.status) {
    // A duplicate command gets the same answer, and no second withdrawal.
    case 'COMPLETED':
      return { action: 'reply', reply: { outcome: 'completed', amount: record.amount } };
    case 'FAILED':
      return { action: 'reply', reply: { outcome: 'failed', reason: record.reason } };
    // The saga compensated this order already (it timed out and refunded, or voided before paying):
    // taking the money now would charge for an order that is cancelled.
    case 'REFUNDED':
    case 'VOIDED':
      return { action: 'reply', reply: { outcome: 'failed', reason: 'voided' } };
    default: {
      const _exhaustive: never = record;
      return _exhaustive;
    }
  }
}

/** `payment.refund` (the compensation of `payment.process`): give the money back, void, or nothing. */
export type RefundDecision =
  { action: 'refund'; accountId: string; amount: number } | { action: 'void' } | { action: 'none' };

export function decideRefund(record: PaymentRecord | undefined): RefundDecision {
  // Nothing paid yet: leave a tombstone, so that a `payment.process` that arrives late is refused.
  if (!record) return { action: 'void' };
  switch (record.status) {
    case 'COMPLETED':
      return { action: 'refund', accountId: record.accountId, amount: record.amount };
    case 'FAILED':
    case 'REFUNDED':
    case 'VOIDED':
      return { action: 'none' };
    default: {
      const _exhaustive: never = record;
      return _exhaustive;
    }
  }
}

/**
 * The saga's reason for a refused withdrawal. `invalid_amount` and `already_opened` cannot come from a valid
 * `payment.process` (its amount is a positive integer, and it never opens an account), so they are bugs.
 */
export function failureReason(code: AccountErrorCode): PaymentFailureReason {
  switch (code) {
    case 'insufficient_funds':
    case 'no_account':
    case 'account_closed':
      return code;
    case 'invalid_amount':
    case 'already_opened':
      throw new Error(`a withdrawal for a payment cannot be refused with ${code}`);
    default: {
      const _exhaustive: never = code;
      return _exhaustive;
    }
  }
}
