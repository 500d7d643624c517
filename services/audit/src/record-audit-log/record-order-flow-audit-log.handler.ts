import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { OrderPlaced, OrderTimedOut } from '@am/contracts';
import type { MessageContext } from '@am/messaging';
import { append } from './append-audit-log.js';

/** Appends the choreographed flow's own orders events (`order.placed`, `order.timed-out`) to `audit_log`. */
@Controller()
export class RecordOrderFlowAuditLogHandler {
  @EventPattern<string>(OrderPlaced.type)
  async orderPlaced(@Payload() event: OrderPlaced, @Ctx() ctx: MessageContext): Promise<void> {
    await append(event, ctx);
  }

  @EventPattern<string>(OrderTimedOut.type)
  async orderTimedOut(@Payload() event: OrderTimedOut, @Ctx() ctx: MessageContext): Promise<void> {
    await append(event, ctx);
  }
}
