import type { EntityManager } from 'typeorm';
import { ReservationStore } from '../reservations/reservation.store.js';
import { decideRelease } from './release-stock.decide.js';

/**
 * The release, for both flows (the saga's `inventory.release`, and the choreographed flow's `payment.failed` or
 * `order.timed-out`) and the synchronous baseline: gives a reservation's items back, at most once, and leaves a tombstone when the reservation
 * has not arrived yet. `sagaId` is the order id on the choreographed flow.
 */
export async function releaseStock(manager: EntityManager, sagaId: string, orderId: string): Promise<void> {
  const store = new ReservationStore(manager);
  await store.lockOrder(orderId);
  const decision = decideRelease(await store.status(orderId));
  switch (decision) {
    case 'give-back':
      return store.giveBack(orderId);
    case 'tombstone':
      return store.record(orderId, sagaId, 'RELEASED');
    case 'nothing':
      return;
    default: {
      const _exhaustive: never = decision;
      return _exhaustive;
    }
  }
}
