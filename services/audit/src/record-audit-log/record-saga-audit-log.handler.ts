import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  InventoryReservationFailed,
  InventoryReserved,
  PaymentCompleted,
  PaymentFailed,
  ProcessPayment,
  RefundPayment,
  ReleaseInventory,
  ReserveInventory,
} from '@am/contracts';
import type { MessageContext } from '@am/messaging';
import { append } from './append-audit-log.js';

/**
 * Appends every saga command and reply of the wire-tap (`audit-saga`) to `audit_log`, so that an order's trail
 * shows each step between `order.created` and its outcome, and the causation id of `order.confirmed` or
 * `order.cancelled` (a reply) names an entry of the same trail.
 */
@Controller()
export class RecordSagaAuditLogHandler {
  @EventPattern<string>(ReserveInventory.type)
  async reserveInventory(@Payload() command: ReserveInventory, @Ctx() ctx: MessageContext): Promise<void> {
    await append(command, ctx);
  }

  @EventPattern<string>(ReleaseInventory.type)
  async releaseInventory(@Payload() command: ReleaseInventory, @Ctx() ctx: MessageContext): Promise<void> {
    await append(command, ctx);
  }

  @EventPattern<string>(ProcessPayment.type)
  async processPayment(@Payload() command: ProcessPayment, @Ctx() ctx: MessageContext): Promise<void> {
    await append(command, ctx);
  }

  @EventPattern<string>(RefundPayment.type)
  async refundPayment(@Payload() command: RefundPayment, @Ctx() ctx: MessageContext): Promise<void> {
    await append(command, ctx);
  }

  @EventPattern<string>(InventoryReserved.type)
  async inventoryReserved(@Payload() reply: InventoryReserved, @Ctx() ctx: MessageContext): Promise<void> {
    await append(reply, ctx);
  }

  @EventPattern<string>(InventoryReservationFailed.type)
  async inventoryReservationFailed(
    @Payload() reply: InventoryReservationFailed,
    @Ctx() ctx: MessageContext,
  ): Promise<void> {
    await append(reply, ctx);
  }

  @EventPattern<string>(PaymentCompleted.type)
  async paymentCompleted(@Payload() reply: PaymentCompleted, @Ctx() ctx: MessageContext): Promise<void> {
    await append(reply, ctx);
  }

  @EventPattern<string>(PaymentFailed.type)
  async paymentFailed(@Payload() reply: PaymentFailed, @Ctx() ctx: MessageContext): Promise<void> {
    await append(reply, ctx);
  }
}
