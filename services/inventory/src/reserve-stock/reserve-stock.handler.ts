import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ReserveInventory, causedBy } from '@am/contracts';
import { Exchanges, MessageContext, SAGA_REPLY_KEY, toExchange } from '@am/messaging';
import { reservationOutcome, reserveStock } from './reserve-stock.js';

/**
 * Step `reserve-inventory` of the order saga: reserves every item of the order or none (`reserveStock`, the same
 * code the choreographed flow runs), and replies to the orchestrator through the outbox.
 */
@Controller()
export class ReserveStockHandler {
  @EventPattern<string>(ReserveInventory.type)
  async handle(@Payload() command: ReserveInventory, @Ctx() ctx: MessageContext): Promise<void> {
    const decision = await reserveStock(ctx.manager, command.data);
    ctx.send(
      toExchange(Exchanges.sagaReplies, SAGA_REPLY_KEY),
      reservationOutcome(command.data, decision, causedBy(command)),
    );
  }
}
