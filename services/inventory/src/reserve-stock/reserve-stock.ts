import type { EntityManager } from 'typeorm';
import { InventoryReservationFailed, InventoryReserved, type EnvelopeOrigin } from '@am/contracts';
import type { StockLine } from '../reservations/reservation.js';
import { ReservationStore } from '../reservations/reservation.store.js';
import { decideReserve, type ReserveDecision } from './reserve-stock.decide.js';

/** What a reservation is about; `sagaId` is the order id on the choreographed flow. */
export interface ReservationRequest {
  sagaId: string;
  orderId: string;
  items: readonly StockLine[];
}

/**
 * The reservation, for both flows (the saga's `inventory.reserve` and the choreographed `order.placed`) and the
 * synchronous baseline's `POST /reservations`: lock the
 * order, lock its stock rows in SKU order, decide (pure), save. Never oversells: the decision is taken on locked
 * rows, and the CHECK constraints back it up.
 */
export async function reserveStock(manager: EntityManager, request: ReservationRequest): Promise<ReserveDecision> {
  const { sagaId, orderId, items } = request;
  const store = new ReservationStore(manager);
  await store.lockOrder(orderId);
  const existing = await store.status(orderId);
  const stock = existing ? [] : await store.lockStock(items.map((i) => i.sku));
  const decision = decideReserve(existing, stock, items);
  if (decision.kind === 'reserve') await store.reserve(orderId, sagaId, decision.lines);
  if (decision.kind === 'reject') await store.record(orderId, sagaId, 'REJECTED');
  return decision;
}

/**
 * The outcome as a message: `inventory.reserved` or `inventory.reservation-failed`; a repeated decision gets the
 * same kind of answer as the first time. `carried` is what the choreographed flow passes on to payments.
 */
export function reservationOutcome(
  request: Pick<ReservationRequest, 'sagaId' | 'orderId'>,
  decision: ReserveDecision,
  origin: EnvelopeOrigin,
  carried: { userId?: string; amount?: number } = {},
): InventoryReserved | InventoryReservationFailed {
  const { sagaId, orderId } = request;
  switch (decision.kind) {
    case 'reserve':
    case 'repeat-reserved':
      return InventoryReserved.create({ sagaId, orderId, ...carried }, origin);
    case 'reject':
      return InventoryReservationFailed.create(
        { sagaId, orderId, reason: 'out_of_stock', shortSkus: decision.shortSkus },
        origin,
      );
    case 'repeat-failed':
      return InventoryReservationFailed.create(
        { sagaId, orderId, reason: decision.reason, shortSkus: decision.shortSkus },
        origin,
      );
    default: {
      const _exhaustive: never = decision;
      return _exhaustive;
    }
  }
}
