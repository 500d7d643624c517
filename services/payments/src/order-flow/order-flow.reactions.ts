import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { InventoryReserved, OrderTimedOut, causedBy } from '@am/contracts';
import { Exchanges, InvalidMessageError, onOrderFlow, toExchange, type MessageContext } from '@am/messaging';
import { processPayment } from '../process-payment/process-payment.js';
import { refundPayment } from '../refund-payment/refund-payment.js';

/**
 * Pattern: choreography. Payments' part of the choreographed order flow, all of it. The business rules are the
 * saga's (`processPayment`, `refundPayment`); only the wiring differs.
 * - `inventory.reserved` → pay, announce `payment.completed` or `payment.failed` (on which inventory releases);
 * - `order.timed-out` → refund, or void an order not paid yet so that a late reservation is not paid for.
 */
@Controller()
export class PaymentsOrderFlowReactions {
  @EventPattern<string>(onOrderFlow(InventoryReserved.type))
  async inventoryReserved(@Payload() event: InventoryReserved, @Ctx() ctx: MessageContext): Promise<void> {
    const { orderId, userId, amount } = event.data;
    // Only the choreographed flow's reservation carries them: without them no retry can help (dead letter at once).
    if (userId === undefined || amount === undefined) {
      throw new InvalidMessageError(`inventory.reserved for order ${orderId} on the order flow lacks userId or amount`);
    }
    const outcome = await processPayment(ctx.manager, { sagaId: orderId, orderId, userId, amount }, causedBy(event));
    ctx.send(toExchange(Exchanges.orderFlow, outcome.type), outcome);
  }

  @EventPattern<string>(onOrderFlow(OrderTimedOut.type))
  async orderTimedOut(@Payload() event: OrderTimedOut, @Ctx() ctx: MessageContext): Promise<void> {
    await refundPayment(ctx.manager, event.data, causedBy(event));
  }
}
