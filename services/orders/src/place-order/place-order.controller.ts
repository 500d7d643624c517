import { createHash, randomUUID } from 'node:crypto';
import {
  Body,
  Controller,
  Headers,
  HttpCode,
  NotFoundException,
  Post,
  UnprocessableEntityException,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PlaceOrder } from '@am/contracts';
import {
  Access,
  AmqpClient,
  CurrentCaller,
  Exchanges,
  Queues,
  parseRequest,
  publishFailure,
  requireOwnAccount,
  type Caller,
} from '@am/messaging';
import { KnownUsers } from '../users/known-users.js';
import { IdempotencyKey, PlaceOrderRequest, orderIdFor, orderTotal } from './place-order.request.js';

interface ExistingOrder {
  status: string;
  request_hash: string | null;
}

/**
 * `POST /orders`: validates, puts an `order.place` task on the `order-processing` queue and answers 202.
 * The queue is the durable store here (pattern: load leveling): the answer comes once the broker has
 * confirmed the message, however far behind the workers are.
 *
 * With an `Idempotency-Key`, the order id is derived from the user and the key, so a repeated request names
 * the same order; the worker stores an order id once, so a repeat creates nothing new. The key is reserved with
 * the request's fingerprint in one atomic statement before the task is published: the same key with another
 * body answers 422 at once, also while the first task still waits in a backed-up queue.
 */
@Controller('orders')
export class PlaceOrderController {
  constructor(
    private readonly amqp: AmqpClient,
    private readonly db: DataSource,
    private readonly users: KnownUsers,
  ) {}

  @Post()
  @HttpCode(202)
  @Access('customer', 'service')
  async place(
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
    @Headers('idempotency-key') rawKey?: string,
  ): Promise<{ orderId: string; status: string }> {
    const request = parseRequest(PlaceOrderRequest, body);
    const key = rawKey === undefined ? undefined : parseRequest(IdempotencyKey, rawKey);
    requireOwnAccount(caller, request.userId);
    // A customer's token names a registered user (it was signed at registration): no lookup. A service names the
    // user in the body, which is checked against the known users.
    if (caller.role !== 'customer' && !(await this.users.exists(request.userId))) {
      throw new NotFoundException(`unknown user ${request.userId}`);
    }
    const requestHash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
    const orderId = key ? orderIdFor(request.userId, key) : randomUUID();
    if (key) {
      // Insert, or touch the existing row so that RETURNING gives the fingerprint it was reserved with.
      const [reserved] = await this.db.query<{ request_hash: string }[]>(
        `INSERT INTO idempotency_keys (order_id, request_hash) VALUES ($1, $2)
         ON CONFLICT (order_id) DO UPDATE SET order_id = EXCLUDED.order_id RETURNING request_hash`,
        [orderId, requestHash],
      );
      const [existing] = await this.db.query<ExistingOrder[]>('SELECT status, request_hash FROM orders WHERE id = $1', [
        orderId,
      ]);
      // An order stored before reservations existed carries its fingerprint itself.
      if (reserved?.request_hash !== requestHash || (existing && existing.request_hash !== requestHash)) {
        throw new UnprocessableEntityException('this Idempotency-Key was used with a different request');
      }
      // Stored already: nothing to publish. Otherwise publish (again): the worker stores the order id once.
      if (existing) return { orderId, status: existing.status };
    }
    const task = PlaceOrder.create(
      {
        orderId,
        userId: request.userId,
        items: request.items,
        total: orderTotal(request.items),
        placedAt: new Date().toISOString(),
        requestHash,
        ...(request.flow ? { flow: request.flow } : {}),
      },
      { correlationId: orderId },
    );
    await this.amqp.publish(Exchanges.orderTasks, Queues.orderProcessing, task).catch(publishFailure);
    return { orderId, status: 'PENDING' };
  }
}
