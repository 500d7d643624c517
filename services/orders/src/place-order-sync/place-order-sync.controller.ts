import { createHash, randomUUID } from 'node:crypto';
import {
  Body,
  Controller,
  Headers,
  HttpCode,
  HttpException,
  HttpStatus,
  NotFoundException,
  Post,
  UnprocessableEntityException,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OrderCancelled, OrderConfirmed, OrderCreated, type CancellationReason } from '@am/contracts';
import { Access, OwnServiceToken, TokenIssuer, Topics, parseRequest, toTopic } from '@am/messaging';
import { addToOutbox } from '@am/persistence';
import { IdempotencyKey, PlaceOrderRequest, orderIdFor, orderTotal } from '../place-order/place-order.request.js';
import { inventoryUrl, paymentsUrl, postJson, type CallResult } from './downstream.js';

/** The order as `POST /orders/sync` answers it: the shape of `GET /orders/:id`. */
export interface SyncOrderView {
  orderId: string;
  userId: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED';
  reason?: string;
  total: number;
  items: PlaceOrderRequest['items'];
}

interface ExistingOrder {
  status: SyncOrderView['status'];
  reason: string | null;
  request_hash: string | null;
}

/**
 * `POST /orders/sync`: the synchronous baseline that the load-leveling experiment sets against `POST /orders`.
 * Same validation, same business rules, no queue: the request calls inventory (`POST /reservations`) and then
 * payments (`POST /payments`) over HTTP and waits for both, compensating with inventory's release when the
 * payment is refused, and answers once the order is decided:
 *
 * - 201 with the order CONFIRMED;
 * - 409 with the order CANCELLED (`out_of_stock`, `payment_failed`);
 * - 504 (a call got no answer within SYNC_CALL_TIMEOUT_MS, 5 s by default) or 503 (a call failed) with the
 *   order CANCELLED (`timeout`), after a best-effort compensation. Under overload this is what callers see:
 *   the slowest service sets everyone's latency, and its failures become the caller's failures.
 *
 * The decided order is stored with its `order.created` and `order.confirmed`/`order.cancelled` events in the
 * outbox, in one transaction, so read models downstream see it like any other order.
 */
@Controller('orders')
export class PlaceOrderSyncController {
  private readonly ownToken: OwnServiceToken;

  constructor(
    private readonly db: DataSource,
    issuer: TokenIssuer,
  ) {
    // Inventory's and payments' baseline routes accept service tokens only: orders calls them as a service.
    this.ownToken = new OwnServiceToken(issuer, 'orders');
  }

  private async asService(): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.ownToken.get()}` };
  }

  @Post('sync')
  @Access('service')
  @HttpCode(201)
  async place(@Body() body: unknown, @Headers('idempotency-key') rawKey?: string): Promise<SyncOrderView> {
    const request = parseRequest(PlaceOrderRequest, body);
    const key = rawKey === undefined ? undefined : parseRequest(IdempotencyKey, rawKey);
    const users = await this.db.query<unknown[]>('SELECT 1 FROM users WHERE id = $1', [request.userId]);
    if (users.length === 0) throw new NotFoundException(`unknown user ${request.userId}`);
    const requestHash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
    const orderId = key ? orderIdFor(request.userId, key) : randomUUID();
    const order: SyncOrderView = {
      orderId,
      userId: request.userId,
      status: 'PENDING',
      total: orderTotal(request.items),
      items: request.items,
    };
    if (key) {
      const [existing] = await this.db.query<ExistingOrder[]>(
        'SELECT status, reason, request_hash FROM orders WHERE id = $1',
        [orderId],
      );
      if (existing && existing.request_hash !== requestHash) {
        throw new UnprocessableEntityException('this Idempotency-Key was used with a different request');
      }
      if (existing)
        return answer({ ...order, status: existing.status, ...(existing.reason ? { reason: existing.reason } : {}) });
    }

    const reserved = await postJson(
      `${inventoryUrl()}/reservations`,
      { orderId, items: request.items },
      await this.asService(),
    );
    if (reserved.kind === 'refused') return answer(await this.store(order, requestHash, 'out_of_stock'));
    if (reserved.kind === 'failed') {
      await this.release(orderId);
      throw unavailable(await this.store(order, requestHash, 'timeout'), 'inventory', reserved);
    }

    const paid = await postJson(
      `${paymentsUrl()}/payments`,
      { orderId, userId: order.userId, amount: order.total },
      await this.asService(),
    );
    if (paid.kind === 'ok') return answer(await this.store(order, requestHash));
    if (paid.kind === 'refused') {
      await this.release(orderId);
      return answer(await this.store(order, requestHash, 'payment_failed'));
    }
    // The payment's fate is unknown: refund (or void, so a late one is refused), then release.
    await postJson(`${paymentsUrl()}/payments/${orderId}/refund`, { userId: order.userId }, await this.asService());
    await this.release(orderId);
    throw unavailable(await this.store(order, requestHash, 'timeout'), 'payments', paid);
  }

  /** The compensation of the reservation; best effort (a failure here leaves stock reserved, as a log line). */
  private async release(orderId: string): Promise<void> {
    await postJson(`${inventoryUrl()}/reservations/${orderId}/release`, {}, await this.asService());
  }

  /** Stores the decided order and its events (outbox) in one transaction; a repeat stores nothing new. */
  private async store(order: SyncOrderView, requestHash: string, reason?: CancellationReason): Promise<SyncOrderView> {
    const decided: SyncOrderView = reason
      ? { ...order, status: 'CANCELLED', reason }
      : { ...order, status: 'CONFIRMED' };
    const { orderId, userId, total, items } = decided;
    const origin = { correlationId: orderId };
    const destination = toTopic(Topics.orderEvents, orderId);
    const events = [
      OrderCreated.create({ orderId, userId, items, total }, origin),
      reason
        ? OrderCancelled.create({ orderId, userId, total, reason }, origin)
        : OrderConfirmed.create({ orderId, userId, total }, origin),
    ];
    await this.db.transaction(async (manager) => {
      const inserted = await manager.query<unknown[]>(
        `INSERT INTO orders (id, user_id, status, reason, total, items, request_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING RETURNING id`,
        [orderId, userId, decided.status, reason ?? null, total, JSON.stringify(items), requestHash],
      );
      if (inserted.length === 0) return;
      await addToOutbox(
        manager,
        events.map((e) => ({ destination, messageId: e.messageId, type: e.type, payload: e })),
      );
    });
    return decided;
  }
}

/** 201 for a confirmed order, 409 (with the order as the body) for a cancelled one. */
function answer(order: SyncOrderView): SyncOrderView {
  if (order.status === 'CANCELLED') throw new HttpException(order, HttpStatus.CONFLICT);
  return order;
}

function unavailable(order: SyncOrderView, step: string, result: CallResult<unknown>): HttpException {
  const timeout = result.kind === 'failed' && result.timeout;
  const status = timeout ? HttpStatus.GATEWAY_TIMEOUT : HttpStatus.SERVICE_UNAVAILABLE;
  const message = result.kind === 'failed' ? result.message : `${step} failed`;
  return new HttpException(
    {
      statusCode: status,
      error: timeout ? 'Gateway Timeout' : 'Service Unavailable',
      message: `${step}: ${message}`,
      retryAfterSeconds: 1,
      order,
    },
    status,
  );
}
