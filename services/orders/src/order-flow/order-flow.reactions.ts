import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { InventoryReservationFailed, PaymentCompleted, PaymentFailed, causedBy } from '@am/contracts';
import { onOrderFlow, type MessageContext } from '@am/messaging';
import { OrderFlowRunner } from './order-flow.runner.js';

type OutcomeEvent = InventoryReservationFailed | PaymentCompleted | PaymentFailed;

/**
 * Pattern: choreography. Orders' part of the choreographed order flow, all of it but the start (`order.placed`,
 * from the order-processing worker) and the deadline (`SagaTimeoutsWorker` sweeps both flows' deadlines):
 * `inventory.reservation-failed` cancels (out_of_stock), `payment.completed` confirms, `payment.failed` cancels
 * (payment_failed; inventory releases on the same event, nobody tells it to).
 */
@Controller()
export class OrdersOrderFlowReactions {
  constructor(private readonly flow: OrderFlowRunner) {}

  @EventPattern<string[]>([
    onOrderFlow(InventoryReservationFailed.type),
    onOrderFlow(PaymentCompleted.type),
    onOrderFlow(PaymentFailed.type),
  ])
  async orderEnded(@Payload() event: OutcomeEvent, @Ctx() ctx: MessageContext): Promise<void> {
    const messages = await this.flow.react(ctx.manager, event.data.orderId, { type: event.type }, causedBy(event));
    for (const m of messages) ctx.send(m.destination, m.envelope);
  }
}
