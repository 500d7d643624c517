import { randomUUID } from 'node:crypto';
import { Body, Controller, HttpCode, NotFoundException, Post } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PlaceOrder } from '@am/contracts';
import { AmqpClient, DEFAULT_EXCHANGE, Queues, parseRequest, publishFailure } from '@am/messaging';
import { PlaceOrderRequest, orderTotal } from './place-order.request.js';

/**
 * `POST /orders`: validates, puts an `order.place` task on the `order-processing` queue and answers 202.
 * The queue is the durable store here (pattern: load leveling): the answer comes once the broker has
 * confirmed the message, however far behind the workers are.
 */
@Controller('orders')
export class PlaceOrderController {
  constructor(
    private readonly amqp: AmqpClient,
    private readonly db: DataSource,
  ) {}

  @Post()
  @HttpCode(202)
  async place(@Body() body: unknown): Promise<{ orderId: string; status: 'PENDING' }> {
    const request = parseRequest(PlaceOrderRequest, body);
    const users: unknown[] = await this.db.query('SELECT 1 FROM users WHERE id = $1', [request.userId]);
    if (users.length === 0) throw new NotFoundException(`unknown user ${request.userId}`);
    const orderId = randomUUID();
    const task = PlaceOrder.create(
      {
        orderId,
        userId: request.userId,
        items: request.items,
        total: orderTotal(request.items),
        placedAt: new Date().toISOString(),
      },
      { correlationId: orderId },
    );
    await this.amqp.publish(DEFAULT_EXCHANGE, Queues.orderProcessing, task).catch(publishFailure);
    return { orderId, status: 'PENDING' };
  }
}
