import { orderOutcomeOf, type SagaReplyType } from '../order-saga/order-saga.saga.js';
import type { OrderOutcome } from '../settle-order/settle-order.js';

/**
 * Orders' decisions in the choreographed flow (pattern: choreography). Orders commands nobody: it listens for the
 * events that end an order, and it owns the order's deadline. The business outcome of each event is the saga's own
 * (`orderOutcomeOf`): the same rule, not a copy.
 */

/** What orders holds of a choreographed order. */
export interface FlowOrder {
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED';
  /** When the order times out (ISO time). */
  deadline: string | null;
}

export type FlowInput = { type: SagaReplyType } | { type: 'deadline-passed' };

/**
 * What happens: the order's end, and for a timeout the announcement `order.timed-out`, on which inventory and
 * payments compensate (no one else knows the deadline passed). Undefined: nothing happens.
 */
export type FlowDecision = OrderOutcome & { announceTimeout?: true };

export function decideOrderFlow(order: FlowOrder, input: FlowInput, now: Date): FlowDecision | undefined {
  // A late or repeated event after the end changes nothing; its side effects are compensated by the participants.
  if (order.status !== 'PENDING') return undefined;
  if (input.type === 'deadline-passed') {
    if (!order.deadline || new Date(order.deadline) > now) return undefined;
    return { kind: 'cancel-order', reason: 'timeout', announceTimeout: true };
  }
  return orderOutcomeOf(input.type);
}
