import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { OrderPlaced, OrderTimedOut, PaymentFailed, causedBy } from '@am/contracts';
import { Exchanges, onOrderFlow, toExchange, type MessageContext } from '@am/messaging';
import { releaseStock } from '../release-stock/release-stock.js';
import { reservationOutcome, reserveStock } from '../reserve-stock/reserve-stock.js';

/**
 * Pattern: choreography. Inventory's part of the choreographed order flow, all of it: what it reacts to and what
 * it announces. The business rules are the saga's (`reserveStock`, `releaseStock`); only the wiring differs.
 * - `order.placed` → reserve, announce `inventory.reserved` (carrying who pays and how much, for payments) or
 *   `inventory.reservation-failed`;
 * - `payment.failed` → release (compensation by event: nobody asks for it);
 * - `order.timed-out` → release (orders owns the deadline; the release is safe before or after the reservation).
 */
@Controller()
export class InventoryOrderFlowReactions {
  @EventPattern<string>(onOrderFlow(OrderPlaced.type))
  async orderPlaced(@Payload() event: OrderPlaced, @Ctx() ctx: MessageContext): Promise<void> {
    const { orderId, userId, items, total } = event.data;
    const request = { sagaId: orderId, orderId, items };
    const decision = await reserveStock(ctx.manager, request);
    const outcome = reservationOutcome(request, decision, causedBy(event), { userId, amount: total });
    ctx.send(toExchange(Exchanges.orderFlow, outcome.type), outcome);
  }

  @EventPattern<string>(onOrderFlow(PaymentFailed.type))
  async paymentFailed(@Payload() event: PaymentFailed, @Ctx() ctx: MessageContext): Promise<void> {
    await releaseStock(ctx.manager, event.data.orderId, event.data.orderId);
  }

  @EventPattern<string>(onOrderFlow(OrderTimedOut.type))
  async orderTimedOut(@Payload() event: OrderTimedOut, @Ctx() ctx: MessageContext): Promise<void> {
    await releaseStock(ctx.manager, event.data.orderId, event.data.orderId);
  }
}
