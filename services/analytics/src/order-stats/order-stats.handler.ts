import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { OrderCancelled, OrderConfirmed, OrderCreated } from '@am/contracts';
import type { MessageContext } from '@am/messaging';

/**
 * Projects `order-events` into `order_stats` (pattern: CQRS read model). A status only moves forward from
 * CREATED, so events that arrive out of order across partitions still give the right answer.
 */
@Controller()
export class OrderStatsHandler {
  @EventPattern<string>(OrderCreated.type)
  async created(@Payload() event: OrderCreated, @Ctx() ctx: MessageContext): Promise<void> {
    await ctx.manager.query(
      `INSERT INTO order_stats (order_id, user_id, total, status) VALUES ($1, $2, $3, 'CREATED')
       ON CONFLICT (order_id) DO NOTHING`,
      [event.data.orderId, event.data.userId, event.data.total],
    );
  }

  @EventPattern<string>(OrderConfirmed.type)
  async confirmed(@Payload() event: OrderConfirmed, @Ctx() ctx: MessageContext): Promise<void> {
    await this.finish(ctx, event.data, 'CONFIRMED');
  }

  @EventPattern<string>(OrderCancelled.type)
  async cancelled(@Payload() event: OrderCancelled, @Ctx() ctx: MessageContext): Promise<void> {
    await this.finish(ctx, event.data, 'CANCELLED');
  }

  private async finish(ctx: MessageContext, data: { orderId: string; userId: string; total: number }, status: string) {
    await ctx.manager.query(
      `INSERT INTO order_stats (order_id, user_id, total, status) VALUES ($1, $2, $3, $4)
       ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()
       WHERE order_stats.status = 'CREATED'`,
      [data.orderId, data.userId, data.total, status],
    );
  }
}
