import type { EntityManager } from 'typeorm';
import type { OrderEvent } from '@am/contracts';

/** The tables a projection can write to: the live read model, or the shadow a replay builds. */
export type OrderStatsTable = 'order_stats' | 'order_stats_rebuild';

/**
 * Applies a batch of order events, in order, to the order statistics (pattern: CQRS read model / projection),
 * with at most two statements whatever the batch's size: one multi-row insert for the `order.created` events and
 * one multi-row upsert for the outcomes. Order-tolerant: a status only moves forward from CREATED, so events of
 * one order arriving out of order (from different partitions, or an outcome before its creation) end in the same
 * row, and applying the creations before the outcomes gives what applying the batch one event at a time gives.
 * Of two outcomes for one order in a batch the first wins, as it would one at a time (one statement cannot
 * update a row twice).
 */
export async function projectOrderEvents(
  manager: EntityManager,
  events: readonly OrderEvent[],
  table: OrderStatsTable = 'order_stats',
): Promise<void> {
  const created = { ids: [] as string[], users: [] as string[], totals: [] as number[] };
  const outcomes = new Map<string, { userId: string; total: number; status: 'CONFIRMED' | 'CANCELLED' }>();
  for (const event of events) {
    switch (event.type) {
      case 'order.created':
        created.ids.push(event.data.orderId);
        created.users.push(event.data.userId);
        created.totals.push(event.data.total);
        break;
      case 'order.confirmed':
      case 'order.cancelled':
        if (!outcomes.has(event.data.orderId)) {
          outcomes.set(event.data.orderId, {
            userId: event.data.userId,
            total: event.data.total,
            status: event.type === 'order.confirmed' ? 'CONFIRMED' : 'CANCELLED',
          });
        }
        break;
      default: {
        const _exhaustive: never = event;
        return _exhaustive;
      }
    }
  }
  if (created.ids.length > 0) {
    await manager.query(
      `INSERT INTO ${table} (order_id, user_id, total, status)
       SELECT id, user_id, total, 'CREATED' FROM unnest($1::uuid[], $2::text[], $3::bigint[]) AS e(id, user_id, total)
       ON CONFLICT (order_id) DO NOTHING`,
      [created.ids, created.users, created.totals],
    );
  }
  if (outcomes.size > 0) {
    const rows = [...outcomes];
    await manager.query(
      `INSERT INTO ${table} (order_id, user_id, total, status)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[])
       ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()
       WHERE ${table}.status = 'CREATED'`,
      [
        rows.map(([id]) => id),
        rows.map(([, o]) => o.userId),
        rows.map(([, o]) => o.total),
        rows.map(([, o]) => o.status),
      ],
    );
  }
}
