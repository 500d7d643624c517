import type { EntityManager } from 'typeorm';
import type { ReservationStatus, StockLevel, StockLine } from './reservation.js';

/** First key of the two-key advisory locks that stand for one order (the second is a hash of its id). */
const ORDER_LOCK_SPACE = 2_002;

/**
 * The reservation tables, read and written inside the caller's transaction (the handler's, where the inbox
 * row is already claimed). Lock order, always the same so that transactions cannot deadlock: first the order,
 * then its stock rows in SKU order.
 */
export class ReservationStore {
  constructor(private readonly manager: EntityManager) {}

  /**
   * Serialises everything that decides about one order until the transaction ends: a duplicate reserve, or a
   * release racing its reserve, waits here and then sees the first one's decision. A row lock cannot do this,
   * because the reservation row may not exist yet.
   */
  async lockOrder(orderId: string): Promise<void> {
    await this.manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ORDER_LOCK_SPACE, orderId]);
  }

  async status(orderId: string): Promise<ReservationStatus | undefined> {
    const rows: { status: ReservationStatus }[] = await this.manager.query(
      'SELECT status FROM reservations WHERE order_id = $1',
      [orderId],
    );
    return rows[0]?.status;
  }

  /**
   * Locks the stock rows of `skus` in SKU order and returns their levels; unknown SKUs are simply missing.
   * The fixed order is what lets many reservations race for the same SKUs without deadlocking.
   */
  async lockStock(skus: readonly string[]): Promise<StockLevel[]> {
    return this.manager.query('SELECT sku, available FROM stock WHERE sku = ANY($1) ORDER BY sku FOR UPDATE', [
      [...new Set(skus)],
    ]);
  }

  /** Moves `lines` from available to reserved and records the reservation. The stock rows must be locked. */
  async reserve(orderId: string, sagaId: string, lines: readonly StockLine[]): Promise<void> {
    const skus = lines.map((l) => l.sku);
    const quantities = lines.map((l) => l.quantity);
    await this.record(orderId, sagaId, 'RESERVED');
    await this.manager.query(
      `INSERT INTO reservation_items (order_id, sku, quantity)
       SELECT $1, sku, quantity FROM unnest($2::text[], $3::int[]) AS l (sku, quantity)`,
      [orderId, skus, quantities],
    );
    await this.manager.query(
      `UPDATE stock s SET available = s.available - l.quantity, reserved = s.reserved + l.quantity, updated_at = now()
         FROM unnest($1::text[], $2::int[]) AS l (sku, quantity)
        WHERE s.sku = l.sku`,
      [skus, quantities],
    );
  }

  /** Records a decision that holds no stock: REJECTED (out of stock) or a RELEASED tombstone. */
  async record(orderId: string, sagaId: string, status: ReservationStatus): Promise<void> {
    await this.manager.query('INSERT INTO reservations (order_id, status, saga_id) VALUES ($1, $2, $3)', [
      orderId,
      status,
      sagaId,
    ]);
  }

  /** Returns the items of a RESERVED reservation to available stock and marks it RELEASED. */
  async giveBack(orderId: string): Promise<void> {
    const lines: StockLine[] = await this.manager.query(
      'SELECT sku, quantity FROM reservation_items WHERE order_id = $1',
      [orderId],
    );
    await this.lockStock(lines.map((l) => l.sku));
    await this.manager.query(
      `UPDATE stock s SET available = s.available + i.quantity, reserved = s.reserved - i.quantity, updated_at = now()
         FROM reservation_items i
        WHERE i.order_id = $1 AND s.sku = i.sku`,
      [orderId],
    );
    await this.manager.query(`UPDATE reservations SET status = 'RELEASED', updated_at = now() WHERE order_id = $1`, [
      orderId,
    ]);
  }
}
