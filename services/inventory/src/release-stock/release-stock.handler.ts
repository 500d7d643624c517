import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ReleaseInventory } from '@am/contracts';
import type { MessageContext } from '@am/messaging';
import { ReservationStore } from '../reservations/reservation.store.js';
import { decideRelease } from './release-stock.decide.js';

/**
 * Compensation `release-inventory` of the order saga: gives a reservation's items back, at most once, and
 * leaves a tombstone when the reservation has not arrived yet. It sends no reply: the saga does not wait
 * for a compensation.
 */
@Controller()
export class ReleaseStockHandler {
  @EventPattern<string>(ReleaseInventory.type)
  async handle(@Payload() command: ReleaseInventory, @Ctx() ctx: MessageContext): Promise<void> {
    const { sagaId, orderId } = command.data;
    const store = new ReservationStore(ctx.manager);
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
}
