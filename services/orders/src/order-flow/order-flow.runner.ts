import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { OrderTimedOut, type Envelope, type EnvelopeOrigin } from '@am/contracts';
import { Exchanges, toExchange, type Destination } from '@am/messaging';
import { settleOrder } from '../settle-order/settle-order.js';
import { decideOrderFlow, type FlowInput, type FlowOrder } from './order-flow.decide.js';

interface FlowOrderRow {
  id: string;
  user_id: string;
  status: FlowOrder['status'];
  total: string;
  deadline: Date | null;
}

const COLUMNS = 'id, user_id, status, total, deadline';

/** How long a choreographed order may take from `order.placed` to its end: each remote step's timeout, summed. */
export const orderFlowTimeoutMs = (stepTimeoutMs: number, remoteSteps: number) =>
  Number(process.env.ORDER_FLOW_TIMEOUT_MS ?? stepTimeoutMs * remoteSteps);

/**
 * Runs orders' choreographed decisions against the database: locks the order's row (so an event and the deadline
 * never decide at once), decides, settles, and returns the messages for the caller's outbox.
 */
@Injectable()
export class OrderFlowRunner {
  async react(
    manager: EntityManager,
    orderId: string,
    input: FlowInput,
    origin: EnvelopeOrigin,
    now = new Date(),
  ): Promise<{ destination: Destination; envelope: Envelope }[]> {
    const rows = await manager.query<FlowOrderRow[]>(
      `SELECT ${COLUMNS} FROM orders WHERE id = $1 AND flow = 'choreographed' FOR UPDATE`,
      [orderId],
    );
    return rows[0] ? this.apply(manager, rows[0], input, origin, now) : [];
  }

  /** Locks choreographed orders past their deadline; `SKIP LOCKED` lets several orders instances share the work. */
  async lockDue(manager: EntityManager, limit: number): Promise<FlowOrderRow[]> {
    return manager.query<FlowOrderRow[]>(
      `SELECT ${COLUMNS} FROM orders WHERE flow = 'choreographed' AND status = 'PENDING' AND deadline <= now()
        ORDER BY deadline LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
  }

  async apply(
    manager: EntityManager,
    row: FlowOrderRow,
    input: FlowInput,
    origin: EnvelopeOrigin,
    now = new Date(),
  ): Promise<{ destination: Destination; envelope: Envelope }[]> {
    const order = { orderId: row.id, userId: row.user_id, total: Number(row.total) };
    const decision = decideOrderFlow(
      { status: row.status, deadline: row.deadline ? row.deadline.toISOString() : null },
      input,
      now,
    );
    if (!decision) return [];
    const settled = await settleOrder(manager, order, decision, origin);
    if (!decision.announceTimeout) return [settled];
    const timedOut = OrderTimedOut.create({ orderId: order.orderId, userId: order.userId }, origin);
    return [settled, { destination: toExchange(Exchanges.orderFlow, timedOut.type), envelope: timedOut }];
  }
}
