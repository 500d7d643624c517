import type { EntityManager } from 'typeorm';
import type { OrderEvent } from '@am/contracts';

/** The tables a projection can write to: the live read model, or the shadow a replay builds. */
export type OrderStatsTable = 'order_stats' | 'order_stats_rebuild';

/**
 * Applies one order event to the order statistics (pattern: CQRS read model / projection). Idempotent and
 * order-tolerant: `order.created` inserts once, and a status only moves forward from CREATED, so a replay, a
 * duplicate or events from different partitions arriving out of order all end in the same table.
 */
export async function projectOrderEvent(
  manager: EntityManager,
  event: OrderEvent,
  table: OrderStatsTable = 'order_stats',
): Promise<void> {
  switch (event.type) {
    case 'order.created':
      await manager.query(
        `INSERT INTO ${table} (order_id, user_id, total, status) VALUES ($1, $2, $3, 'CREATED')
         ON CONFLICT (order_id) DO NOTHING`,
        [event.data.orderId, event.data.userId, event.data.total],
      );
      return;
    case 'order.confirmed':
    case 'order.cancelled':
      await manager.query(
        `INSERT INTO ${table} (order_id, user_id, total, status) VALUES ($1, $2, $3, $4)
         ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()
         WHERE ${table}.status = 'CREATED'`,
        [
          event.data.orderId,
          event.data.userId,
          event.data.total,
          event.type === 'order.confirmed' ? 'CONFIRMED' : 'CANCELLED',
        ],
      );
      return;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}
