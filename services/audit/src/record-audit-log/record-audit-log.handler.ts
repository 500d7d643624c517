import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { OrderCancelled, OrderConfirmed, OrderCreated, UserRegistered, type Envelope } from '@am/contracts';
import type { MessageContext } from '@am/messaging';

/**
 * Appends every envelope the audit service receives, from RabbitMQ (`audit-log`) and Kafka (`order-events`),
 * to `audit_log`. The library has validated it and claimed its id in the inbox; the row commits with the
 * inbox row. `ON CONFLICT DO NOTHING` is a second guard on (source, message id), so the log stays one row per
 * message even if the inbox were cleaned up and a message came again.
 */
@Controller()
export class RecordAuditLogHandler {
  @EventPattern<string>(UserRegistered.type)
  async userRegistered(@Payload() event: UserRegistered, @Ctx() ctx: MessageContext): Promise<void> {
    await append(event, ctx);
  }

  @EventPattern<string>(OrderCreated.type)
  async orderCreated(@Payload() event: OrderCreated, @Ctx() ctx: MessageContext): Promise<void> {
    await append(event, ctx);
  }

  @EventPattern<string>(OrderConfirmed.type)
  async orderConfirmed(@Payload() event: OrderConfirmed, @Ctx() ctx: MessageContext): Promise<void> {
    await append(event, ctx);
  }

  @EventPattern<string>(OrderCancelled.type)
  async orderCancelled(@Payload() event: OrderCancelled, @Ctx() ctx: MessageContext): Promise<void> {
    await append(event, ctx);
  }
}

async function append(event: Envelope, ctx: MessageContext): Promise<void> {
  await ctx.manager.query(
    `INSERT INTO audit_log (source, message_id, type, version, correlation_id, causation_id, occurred_at, data)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT ON CONSTRAINT audit_log_once DO NOTHING`,
    [
      ctx.source,
      event.messageId,
      event.type,
      event.version,
      event.correlationId,
      event.causationId,
      event.occurredAt,
      JSON.stringify(event.data),
    ],
  );
}
