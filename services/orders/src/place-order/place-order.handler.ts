import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { OrderCreated, PlaceOrder, causedBy } from '@am/contracts';
import { MessageContext, Topics, toTopic } from '@am/messaging';

/**
 * The order-processing worker: turns an `order.place` task into a PENDING order and announces
 * `order.created` on Kafka. The library has already validated the message and claimed its id in the inbox,
 * and commits the order, the inbox row and the outbox row together.
 */
@Controller()
export class PlaceOrderHandler {
  @EventPattern<string>(PlaceOrder.type)
  async handle(@Payload() task: PlaceOrder, @Ctx() ctx: MessageContext): Promise<void> {
    const { orderId, userId, items, total } = task.data;
    const inserted: unknown[] = await ctx.manager.query(
      `INSERT INTO orders (id, user_id, status, total, items) VALUES ($1, $2, 'PENDING', $3, $4)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [orderId, userId, total, JSON.stringify(items)],
    );
    if (inserted.length === 0) return;
    ctx.send(
      toTopic(Topics.orderEvents, orderId),
      OrderCreated.create({ orderId, userId, items, total }, causedBy(task)),
    );
  }
}
