import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { InventoryReservationFailed, InventoryReserved, ReserveInventory, causedBy } from '@am/contracts';
import { Exchanges, MessageContext, SAGA_REPLY_KEY, toExchange } from '@am/messaging';
import { ReservationStore } from '../reservations/reservation.store.js';
import { decideReserve, type ReserveDecision } from './reserve-stock.decide.js';

/**
 * Step `reserve-inventory` of the order saga: reserves every item of the order or none, and replies to the
 * orchestrator through the outbox. Lock the order, lock its stock rows in SKU order, decide (pure), save.
 * Never oversells: the decision is taken on locked rows, and the CHECK constraints back it up.
 */
@Controller()
export class ReserveStockHandler {
  @EventPattern<string>(ReserveInventory.type)
  async handle(@Payload() command: ReserveInventory, @Ctx() ctx: MessageContext): Promise<void> {
    const { sagaId, orderId, items } = command.data;
    const store = new ReservationStore(ctx.manager);
    await store.lockOrder(orderId);
    const existing = await store.status(orderId);
    const stock = existing ? [] : await store.lockStock(items.map((i) => i.sku));
    const decision = decideReserve(existing, stock, items);
    if (decision.kind === 'reserve') await store.reserve(orderId, sagaId, decision.lines);
    if (decision.kind === 'reject') await store.record(orderId, sagaId, 'REJECTED');
    ctx.send(toExchange(Exchanges.sagaReplies, SAGA_REPLY_KEY), reply(command, decision));
  }
}

/** The answer to the orchestrator; a repeated decision gets the same kind of answer as the first time. */
function reply(command: ReserveInventory, decision: ReserveDecision): InventoryReserved | InventoryReservationFailed {
  const { sagaId, orderId } = command.data;
  switch (decision.kind) {
    case 'reserve':
    case 'repeat-reserved':
      return InventoryReserved.create({ sagaId, orderId }, causedBy(command));
    case 'reject':
      return InventoryReservationFailed.create(
        { sagaId, orderId, reason: 'out_of_stock', shortSkus: decision.shortSkus },
        causedBy(command),
      );
    case 'repeat-failed':
      return InventoryReservationFailed.create(
        { sagaId, orderId, reason: decision.reason, shortSkus: decision.shortSkus },
        causedBy(command),
      );
    default: {
      const _exhaustive: never = decision;
      return _exhaustive;
    }
  }
}
