import { describe, expect, it } from 'vitest';
import { decideOrderFlow, type FlowDecision, type FlowInput, type FlowOrder } from './order-flow.decide.js';

const T0 = new Date('2026-11-29T10:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const pending = (deadlineMs = 30_000): FlowOrder => ({ status: 'PENDING', deadline: at(deadlineMs).toISOString() });

/** Given the order as orders holds it, when an event (or the deadline) arrives at `ms`, then this happens. */
const given = (order: FlowOrder) => ({
  when: (input: FlowInput, ms = 1) => ({
    then: (expected: FlowDecision | undefined) => expect(decideOrderFlow(order, input, at(ms))).toEqual(expected),
  }),
});

describe("orders' part of the choreographed order flow", () => {
  it('confirms the order when the payment is completed', () => {
    given(pending()).when({ type: 'payment.completed' }).then({ kind: 'confirm-order' });
  });

  it('cancels with out_of_stock when the reservation fails, as the saga does', () => {
    given(pending())
      .when({ type: 'inventory.reservation-failed' })
      .then({ kind: 'cancel-order', reason: 'out_of_stock' });
  });

  it('cancels with payment_failed when the payment fails (inventory releases on the same event)', () => {
    given(pending()).when({ type: 'payment.failed' }).then({ kind: 'cancel-order', reason: 'payment_failed' });
  });

  it('decides nothing on a reservation: the order goes on waiting for its payment', () => {
    given(pending()).when({ type: 'inventory.reserved' }).then(undefined);
  });

  it('cancels with timeout and announces it when the deadline has passed, for the others to compensate', () => {
    given(pending(30_000))
      .when({ type: 'deadline-passed' }, 30_000)
      .then({ kind: 'cancel-order', reason: 'timeout', announceTimeout: true });
  });

  it('does nothing for a deadline not yet reached', () => {
    given(pending(30_000)).when({ type: 'deadline-passed' }, 29_999).then(undefined);
  });

  it('ignores a late payment after the timeout: the order stays cancelled, payments refunds on order.timed-out', () => {
    given({ status: 'CANCELLED', deadline: null }).when({ type: 'payment.completed' }).then(undefined);
  });

  it('ignores a repeated outcome and a deadline after the end', () => {
    given({ status: 'CONFIRMED', deadline: null }).when({ type: 'payment.failed' }).then(undefined);
    given({ status: 'CONFIRMED', deadline: at(0).toISOString() })
      .when({ type: 'deadline-passed' }, 60_000)
      .then(undefined);
  });
});
