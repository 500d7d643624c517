import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  InventoryReservationFailed,
  InventoryReserved,
  PaymentCompleted,
  PaymentFailed,
  causedBy,
  type InventoryReply,
  type PaymentReply,
} from '@am/contracts';
import type { MessageContext } from '@am/messaging';
import { OrderSagaRunner } from './order-saga.runner.js';

/** Feeds every saga reply to the orchestrator; a reply the saga no longer waits for changes nothing. */
@Controller()
export class SagaReplyHandler {
  constructor(private readonly saga: OrderSagaRunner) {}

  @EventPattern<string[]>([
    InventoryReserved.type,
    InventoryReservationFailed.type,
    PaymentCompleted.type,
    PaymentFailed.type,
  ])
  async handle(@Payload() reply: InventoryReply | PaymentReply, @Ctx() ctx: MessageContext): Promise<void> {
    const { sagaId } = reply.data;
    const messages = await this.saga.handle(ctx.manager, sagaId, { type: reply.type, sagaId }, causedBy(reply));
    for (const m of messages) ctx.send(m.destination, m.envelope);
  }
}
