import { Controller, Get } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Access } from '@am/messaging';

interface CountRow {
  status: string;
  step: string;
  n: number;
}

interface SagaRow {
  order_id: string;
  status: string;
  step: string;
  reason: string | null;
  deadline: Date | null;
  completed: string[];
  updated_at: Date;
}

/** One saga on the board. */
export interface SagaSummary {
  orderId: string;
  status: string;
  step: string;
  reason?: string;
  deadline?: string;
  completed: string[];
  updatedAt: string;
}

const LIMIT = 20;

/**
 * `GET /sagas`: the saga board of the control room. How many sagas are in each status and step, the running ones past
 * their deadline (stuck: the timeout worker should have compensated them already, so one that stays here says the
 * worker is behind or down), and the latest ones to change. Three short statements on `order_sagas`; the running
 * ones are found through its partial index on the deadline.
 */
@Controller('sagas')
export class ListSagasController {
  constructor(private readonly db: DataSource) {}

  @Get()
  @Access('operator')
  async board(): Promise<{ counts: CountRow[]; stuck: SagaSummary[]; recent: SagaSummary[] }> {
    const columns = 'order_id, status, step, reason, deadline, completed, updated_at';
    const [counts, stuck, recent] = await Promise.all([
      this.db.query<CountRow[]>(
        'SELECT status, step, count(*)::int AS n FROM order_sagas GROUP BY status, step ORDER BY status, step',
      ),
      this.db.query<SagaRow[]>(
        `SELECT ${columns} FROM order_sagas WHERE status = 'RUNNING' AND deadline < now() ORDER BY deadline LIMIT $1`,
        [LIMIT],
      ),
      this.db.query<SagaRow[]>(`SELECT ${columns} FROM order_sagas ORDER BY updated_at DESC LIMIT $1`, [LIMIT]),
    ]);
    return { counts, stuck: stuck.map(summary), recent: recent.map(summary) };
  }
}

function summary(row: SagaRow): SagaSummary {
  return {
    orderId: row.order_id,
    status: row.status,
    step: row.step,
    ...(row.reason ? { reason: row.reason } : {}),
    ...(row.deadline ? { deadline: row.deadline.toISOString() } : {}),
    completed: row.completed,
    updatedAt: row.updated_at.toISOString(),
  };
}
