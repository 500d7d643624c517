import type { EntityManager } from 'typeorm';
import type { CancellationReason, OrderItem } from '@am/contracts';
import type { OrderSagaState, SagaStatus } from './order-saga.saga.js';

interface SagaRow {
  saga_id: string;
  order_id: string;
  step: string;
  status: SagaStatus;
  reason: CancellationReason | null;
  deadline: Date | null;
  completed: string[];
  data: { userId: string; items: OrderItem[]; total: number };
}

const COLUMNS = 'saga_id, order_id, step, status, reason, deadline, completed, data';

function toState(row: SagaRow): OrderSagaState {
  return {
    sagaId: row.saga_id,
    orderId: row.order_id,
    userId: row.data.userId,
    items: row.data.items,
    total: row.data.total,
    step: row.step,
    status: row.status,
    reason: row.reason,
    deadline: row.deadline ? row.deadline.toISOString() : null,
    completed: row.completed,
  };
}

/** Loads a saga and locks it until the transaction ends, so a reply and a timeout never decide at once. */
export async function loadSagaForUpdate(manager: EntityManager, sagaId: string): Promise<OrderSagaState | undefined> {
  const rows = await manager.query<SagaRow[]>(`SELECT ${COLUMNS} FROM order_sagas WHERE saga_id = $1 FOR UPDATE`, [
    sagaId,
  ]);
  return rows[0] && toState(rows[0]);
}

/** Locks running sagas whose deadline has passed; `SKIP LOCKED` lets several orders instances share the work. */
export async function lockDueSagas(manager: EntityManager, limit: number): Promise<OrderSagaState[]> {
  const rows = await manager.query<SagaRow[]>(
    `SELECT ${COLUMNS} FROM order_sagas WHERE status = 'RUNNING' AND deadline <= now()
      ORDER BY deadline LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows.map(toState);
}

export async function saveSaga(manager: EntityManager, state: OrderSagaState): Promise<void> {
  await manager.query(
    `INSERT INTO order_sagas (saga_id, order_id, step, status, reason, deadline, completed, data)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (saga_id) DO UPDATE SET step = EXCLUDED.step, status = EXCLUDED.status, reason = EXCLUDED.reason,
       deadline = EXCLUDED.deadline, completed = EXCLUDED.completed, updated_at = now()`,
    [
      state.sagaId,
      state.orderId,
      state.step,
      state.status,
      state.reason,
      state.deadline,
      state.completed,
      JSON.stringify({ userId: state.userId, items: state.items, total: state.total }),
    ],
  );
}
