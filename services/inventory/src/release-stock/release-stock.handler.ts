import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ReleaseInventory } from '@am/contracts';
import type { MessageContext } from '@am/messaging';
import { releaseStock } from './release-stock.js';

/**
 * Compensation `release-inventory` of the order saga (`releaseStock`, the same code the choreographed flow runs).
 * It sends no reply: the saga does not wait for a compensation.
 */
@Controller()
export class ReleaseStockHandler {
  @EventPattern<string>(ReleaseInventory.type)
  async handle(@Payload() command: ReleaseInventory, @Ctx() ctx: MessageContext): Promise<void> {
    await releaseStock(ctx.manager, command.data.sagaId, command.data.orderId);
  }
}
