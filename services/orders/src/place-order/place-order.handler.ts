import { randomUUID } from 'node:crypto';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { OrderCreated, OrderPlaced, PlaceOrder, causedBy } from '@am/contracts';
import { Exchanges, MessageContext, Topics, toExchange, toTopic } from '@am/messaging';
import { orderFlowTimeoutMs } from '../order-flow/order-flow.runner.js';
import { remoteStepCount } from '../order-saga/order-saga.saga.js';
import { OrderSagaRunner, sagaStepTimeoutMs } from '../order-saga/order-saga.runner.js';

/**
 * The order-processing worker: turns an `order.place` task into a PENDING order and announces `order.created` on
 * Kafka; then, orchestrated, starts the saga (its first command, `inventory.reserve`), or, choreographed, sets the
 * order's deadline and announces `order.placed` on the `order-flow` exchange for whoever reacts. The library has
 * validated the task and claimed its id in the inbox; order, saga state, inbox row and outbox rows commit together.
 */
@Controller()
export class PlaceOrderHandler {
  constructor(private readonly saga: OrderSagaRunner) {}

  @EventPattern<string>(PlaceOrder.type)
  async handle(@Payload() task: PlaceOrder, @Ctx() ctx: MessageContext): Promise<void> {
    const { orderId, userId, items, total, requestHash, flow = 'orchestrated' } = task.data;
    const deadline =
      flow === 'choreographed'
        ? new Date(Date.now() + orderFlowTimeoutMs(sagaStepTimeoutMs(), remoteStepCount)).toISOString()
        : null;
    const inserted = await ctx.manager.query<unknown[]>(
      `INSERT INTO orders (id, user_id, status, total, items, request_hash, flow, deadline)
       VALUES ($1, $2, 'PENDING', $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [orderId, userId, total, JSON.stringify(items), requestHash ?? null, flow, deadline],
    );
    // The same order placed twice (a repeated Idempotency-Key) is one order.
    if (inserted.length === 0) return;
    const origin = causedBy(task);
    ctx.send(toTopic(Topics.orderEvents, orderId), OrderCreated.create({ orderId, userId, items, total }, origin));
    if (flow === 'choreographed') {
      ctx.send(
        toExchange(Exchanges.orderFlow, OrderPlaced.type),
        OrderPlaced.create({ orderId, userId, items, total }, origin),
      );
      return;
    }
    const start = { type: 'order.placed' as const, sagaId: randomUUID(), orderId, userId, items, total };
    for (const m of await this.saga.apply(ctx.manager, undefined, start, origin)) ctx.send(m.destination, m.envelope);
  }
}
