import { Body, ConflictException, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Access, parseRequest } from '@am/messaging';
import { releaseStock } from '../release-stock/release-stock.js';
import { reserveStock } from '../reserve-stock/reserve-stock.js';
import { OrderIdParam, ReserveStockSyncRequest } from './reserve-stock-sync.request.js';

/**
 * The synchronous baseline of the load-leveling experiment (`POST /orders/sync` in orders calls these and waits):
 * the same code (`reserveStock`, `releaseStock`) as the saga's `inventory.reserve` / `inventory.release` handlers
 * and the choreographed flow's reactions, answered over HTTP instead of through the queue.
 *
 * - `POST /reservations {orderId, items}` → 201 `{orderId, status: 'RESERVED'}`, or 409 with `reason`
 *   (`out_of_stock`, `released`) and the short SKUs. A repeat for the same order repeats the first answer.
 * - `POST /reservations/:orderId/release` → 200 `{orderId, status: 'RELEASED'}` (idempotent; a release before
 *   the reserve leaves a tombstone, as in the saga).
 *
 * The saga is not involved: no reply message is sent. The reservation's saga id is the order id.
 */
@Controller('reservations')
export class ReserveStockSyncController {
  constructor(private readonly db: DataSource) {}

  @Post()
  @Access('service')
  @HttpCode(201)
  async reserve(@Body() body: unknown): Promise<{ orderId: string; status: 'RESERVED' }> {
    const { orderId, items } = parseRequest(ReserveStockSyncRequest, body);
    const decision = await this.db.transaction((manager) => reserveStock(manager, { sagaId: orderId, orderId, items }));
    switch (decision.kind) {
      case 'reserve':
      case 'repeat-reserved':
        return { orderId, status: 'RESERVED' };
      case 'reject':
        throw refused(orderId, 'out_of_stock', decision.shortSkus);
      case 'repeat-failed':
        throw refused(orderId, decision.reason, decision.shortSkus);
      default: {
        const _exhaustive: never = decision;
        return _exhaustive;
      }
    }
  }

  @Post(':orderId/release')
  @Access('service')
  @HttpCode(200)
  async release(@Param('orderId') rawOrderId: string): Promise<{ orderId: string; status: 'RELEASED' }> {
    const orderId = parseRequest(OrderIdParam, rawOrderId);
    await this.db.transaction((manager) => releaseStock(manager, orderId, orderId));
    return { orderId, status: 'RELEASED' };
  }
}

function refused(orderId: string, reason: string, shortSkus: string[]): ConflictException {
  return new ConflictException({
    statusCode: 409,
    error: 'Conflict',
    message: `order ${orderId}: stock not reserved (${reason})`,
    orderId,
    reason,
    shortSkus,
  });
}
