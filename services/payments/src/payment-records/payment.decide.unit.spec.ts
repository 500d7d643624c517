import { describe, expect, it } from 'vitest';
import { decideProcess, decideRefund, failureReason, type PaymentRecord } from './payment.decide.js';

// Given what is recorded for an order, when the saga's command arrives, then this is what payments does.
const base = { orderId: '8b0a3a6e-0a8a-4c41-9a0e-3f0f3b8f1a01', accountId: 'alice' };
const completed: PaymentRecord = { ...base, status: 'COMPLETED', amount: 2500 };
const failed: PaymentRecord = { ...base, status: 'FAILED', amount: 2500, reason: 'insufficient_funds' };
const refunded: PaymentRecord = { ...base, status: 'REFUNDED', amount: 2500 };
const voided: PaymentRecord = { ...base, status: 'VOIDED', amount: null };

describe('payment.process for an order', () => {
  it('withdraws when nothing is recorded for the order', () => {
    expect(decideProcess(undefined)).toEqual({ action: 'withdraw' });
  });

  it('repeats "completed" for a duplicate, without a second withdrawal', () => {
    expect(decideProcess(completed)).toEqual({ action: 'reply', reply: { outcome: 'completed', amount: 2500 } });
  });

  it('repeats "failed" with the same reason for a duplicate', () => {
    expect(decideProcess(failed)).toEqual({
      action: 'reply',
      reply: { outcome: 'failed', reason: 'insufficient_funds' },
    });
  });

  it('refuses to charge an order that the saga has compensated already', () => {
    for (const record of [voided, refunded]) {
      expect(decideProcess(record)).toEqual({ action: 'reply', reply: { outcome: 'failed', reason: 'voided' } });
    }
  });
});

describe('payment.refund for an order', () => {
  it('gives back a completed payment', () => {
    expect(decideRefund(completed)).toEqual({ action: 'refund', accountId: 'alice', amount: 2500 });
  });

  it('voids an order with no payment yet, so that a late payment.process is refused', () => {
    expect(decideRefund(undefined)).toEqual({ action: 'void' });
  });

  it('does nothing for a failed, refunded or voided payment', () => {
    for (const record of [failed, refunded, voided]) expect(decideRefund(record)).toEqual({ action: 'none' });
  });
});

describe('failure reasons', () => {
  it('passes the saga the reasons a withdrawal can be refused for', () => {
    expect(failureReason('insufficient_funds')).toBe('insufficient_funds');
    expect(failureReason('no_account')).toBe('no_account');
    expect(failureReason('account_closed')).toBe('account_closed');
  });

  it('treats the refusals a valid payment cannot get as bugs', () => {
    expect(() => failureReason('invalid_amount')).toThrow();
    expect(() => failureReason('already_opened')).toThrow();
  });
});
