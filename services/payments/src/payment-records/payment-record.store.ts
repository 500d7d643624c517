import type { EntityManager } from 'typeorm';
import type { PaymentFailureReason, PaymentRecord, PaymentStatus } from './payment.decide.js';

interface PaymentRow {
  order_id: string;
  account_id: string;
  amount: string | null;
  status: PaymentStatus;
  reason: PaymentFailureReason | null;
}

/**
 * Reads the `payments` row of an order after taking a transaction-scoped advisory lock on the order id, so
 * that the saga's commands for one order (a duplicate `payment.process`, a `payment.refund` racing it) run one
 * after the other. Without the lock both could find no row and both act; the primary key would then abort one
 * of them late, after its withdrawal, and send it round the retry queue.
 */
export async function lockPaymentRecord(manager: EntityManager, orderId: string): Promise<PaymentRecord | undefined> {
  // Two-key form: a lock space of its own, apart from the single-key migration lock.
  await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [PAYMENT_LOCK_CLASS, orderId]);
  const rows: PaymentRow[] = await manager.query(
    'SELECT order_id, account_id, amount, status, reason FROM payments WHERE order_id = $1',
    [orderId],
  );
  return rows[0] && fromRow(rows[0]);
}

/** Records the outcome of an order's payment (or its VOIDED tombstone). */
export async function insertPaymentRecord(manager: EntityManager, record: PaymentRecord): Promise<void> {
  await manager.query(
    'INSERT INTO payments (order_id, account_id, amount, status, reason) VALUES ($1, $2, $3, $4, $5)',
    [record.orderId, record.accountId, record.amount, record.status, record.status === 'FAILED' ? record.reason : null],
  );
}

/** Marks a completed payment as refunded. */
export async function markRefunded(manager: EntityManager, orderId: string): Promise<void> {
  await manager.query(
    `UPDATE payments SET status = 'REFUNDED', updated_at = now() WHERE order_id = $1 AND status = 'COMPLETED'`,
    [orderId],
  );
}

/** The first key of the advisory locks on orders ("PAY" in ASCII). */
const PAYMENT_LOCK_CLASS = 0x504159;

function fromRow(row: PaymentRow): PaymentRecord {
  const base = { orderId: row.order_id, accountId: row.account_id };
  const amount = row.amount === null ? null : Number(row.amount);
  switch (row.status) {
    case 'VOIDED':
      return { ...base, status: row.status, amount };
    case 'FAILED':
      return { ...base, status: row.status, amount: required(amount, row), reason: required(row.reason, row) };
    case 'COMPLETED':
    case 'REFUNDED':
      return { ...base, status: row.status, amount: required(amount, row) };
    default: {
      const _exhaustive: never = row.status;
      return _exhaustive;
    }
  }
}

function required<T>(value: T | null, row: PaymentRow): T {
  if (value === null) throw new Error(`payments row of order ${row.order_id} (${row.status}) is incomplete`);
  return value;
}
