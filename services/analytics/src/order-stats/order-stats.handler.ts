import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { OrderCancelled, OrderConfirmed, OrderCreated, type OrderEvent } from '@am/contracts';
import type { MessageContext } from '@am/messaging';
import { projectOrderEvent } from './order-stats.projection.js';

/** Feeds `order-events` (consumer group `analytics`) into the order statistics read model. */
@Controller()
export class OrderStatsHandler {
  @EventPattern<string[]>([OrderCreated.type, OrderConfirmed.type, OrderCancelled.type])
  async handle(@Payload() event: OrderEvent, @Ctx() ctx: MessageContext): Promise<void> {
    await projectOrderEvent(ctx.manager, event);
  }
}
