import { Body, ConflictException, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Access, parseRequest } from '@am/messaging';
import { decideRelease } from '../release-stock/release-stock.decide.js';
import { decideReserve } from '../reserve-stock/reserve-stock.decide.js';
import { ReservationStore } from '../reservations/reservation.store.js';
import { OrderIdParam, ReserveStockSyncRequest } from './reserve-stock-sync.request.js';

/**
 * The synchronous baseline of the load-leveling experiment (`POST /orders/sync` in orders calls these and waits):
 * the same reservation rules as the saga's `inventory.reserve` / `inventory.release` handlers — the same store,
 * the same locks in the same order, the same pure decisions — answered over HTTP instead of through the queue.
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
    const decision = await this.db.transaction(async (manager) => {
      const store = new ReservationStore(manager);
      await store.lockOrder(orderId);
      const existing = await store.status(orderId);
      const stock = existing ? [] : await store.lockStock(items.map((i) => i.sku));
      const decided = decideReserve(existing, stock, items);
      if (decided.kind === 'reserve') await store.reserve(orderId, orderId, decided.lines);
      if (decided.kind === 'reject') await store.record(orderId, orderId, 'REJECTED');
      return decided;
    });
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
    await this.db.transaction(async (manager) => {
      const store = new ReservationStore(manager);
      await store.lockOrder(orderId);
      const decision = decideRelease(await store.status(orderId));
      if (decision === 'give-back') await store.giveBack(orderId);
      if (decision === 'tombstone') await store.record(orderId, orderId, 'RELEASED');
    });
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
