import { randomUUID } from 'node:crypto';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { OrderCreated, PlaceOrder, causedBy } from '@am/contracts';
import { MessageContext, Topics, toTopic } from '@am/messaging';
import { OrderSagaRunner } from '../order-saga/order-saga.runner.js';

/**
 * The order-processing worker: turns an `order.place` task into a PENDING order, announces `order.created` on
 * Kafka and starts the saga (its first command, `inventory.reserve`). The library has validated the task and
 * claimed its id in the inbox; order, saga state, inbox row and outbox rows commit together.
 */
@Controller()
export class PlaceOrderHandler {
  constructor(private readonly saga: OrderSagaRunner) {}

  @EventPattern<string>(PlaceOrder.type)
  async handle(@Payload() task: PlaceOrder, @Ctx() ctx: MessageContext): Promise<void> {
    const { orderId, userId, items, total, requestHash } = task.data;
    const inserted = await ctx.manager.query<unknown[]>(
      `INSERT INTO orders (id, user_id, status, total, items, request_hash) VALUES ($1, $2, 'PENDING', $3, $4, $5)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [orderId, userId, total, JSON.stringify(items), requestHash ?? null],
    );
    // The same order placed twice (a repeated Idempotency-Key) is one order.
    if (inserted.length === 0) return;
    const origin = causedBy(task);
    ctx.send(toTopic(Topics.orderEvents, orderId), OrderCreated.create({ orderId, userId, items, total }, origin));
    const start = { type: 'order.placed' as const, sagaId: randomUUID(), orderId, userId, items, total };
    for (const m of await this.saga.apply(ctx.manager, undefined, start, origin)) ctx.send(m.destination, m.envelope);
  }
}
