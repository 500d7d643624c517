import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { OrderCancelled, OrderConfirmed, OrderCreated, UserRegistered } from '@am/contracts';
import type { MessageContext } from '@am/messaging';
import { append } from './append-audit-log.js';

/**
 * Appends every user event (RabbitMQ, `audit-log`) and order event (Kafka, `order-events`) the audit service
 * receives to `audit_log`; the saga's commands and replies have `RecordSagaAuditLogHandler`.
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
