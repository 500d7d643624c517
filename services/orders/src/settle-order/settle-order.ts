import type { EntityManager } from 'typeorm';
import {
  OrderCancelled,
  OrderConfirmed,
  type CancellationReason,
  type Envelope,
  type EnvelopeOrigin,
} from '@am/contracts';
import { Topics, toTopic, type Destination } from '@am/messaging';

/** An order's end: confirmed, or cancelled with a reason. */
export type OrderOutcome = { kind: 'confirm-order' } | { kind: 'cancel-order'; reason: CancellationReason };

/**
 * Ends an order, for both flows (the saga's `confirm-order` and `cancel-order`, the choreographed flow's
 * reactions and deadline): its status in the orders table, and `order.confirmed` or `order.cancelled` for
 * `order-events`, which the caller puts in the same transaction's outbox.
 */
export async function settleOrder(
  manager: EntityManager,
  order: { orderId: string; userId: string; total: number },
  outcome: OrderOutcome,
  origin: EnvelopeOrigin,
): Promise<{ destination: Destination; envelope: Envelope }> {
  const { orderId, userId, total } = order;
  const destination = toTopic(Topics.orderEvents, orderId);
  switch (outcome.kind) {
    case 'confirm-order':
      await manager.query(`UPDATE orders SET status = 'CONFIRMED', updated_at = now() WHERE id = $1`, [orderId]);
      return { destination, envelope: OrderConfirmed.create({ orderId, userId, total }, origin) };
    case 'cancel-order': {
      const { reason } = outcome;
      await manager.query(`UPDATE orders SET status = 'CANCELLED', reason = $2, updated_at = now() WHERE id = $1`, [
        orderId,
        reason,
      ]);
      return { destination, envelope: OrderCancelled.create({ orderId, userId, total, reason }, origin) };
    }
    default: {
      const _exhaustive: never = outcome;
      return _exhaustive;
    }
  }
}
