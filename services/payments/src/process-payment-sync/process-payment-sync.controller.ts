import {
  Body,
  ConflictException,
  Controller,
  HttpCode,
  HttpException,
  HttpStatus,
  Param,
  Post,
  ServiceUnavailableException,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Access, parseRequest } from '@am/messaging';
import { ConcurrencyRetriesExhaustedError, runAccountCommand } from '../accounts/account-command.runner.js';
import { decideRefund, type PaymentFailureReason } from '../payment-records/payment.decide.js';
import { payOnce } from '../process-payment/process-payment.js';
import { insertPaymentRecord, lockPaymentRecord, markRefunded } from '../payment-records/payment-record.store.js';
import { OrderIdParam, ProcessPaymentSyncRequest, RefundPaymentSyncRequest } from './process-payment-sync.request.js';

/**
 * The synchronous baseline of the load-leveling experiment (`POST /orders/sync` in orders calls these and waits):
 * the rules of the saga's `payment.process` / `payment.refund` handlers — the same per-order lock and record,
 * the same pure decisions, the same event-sourced withdrawal — answered over HTTP instead of through the queue.
 *
 * - `POST /payments {orderId, userId, amount}` → 201 `{orderId, outcome: 'completed', amount}`; 402 when the
 *   balance does not cover it (`insufficient_funds`); 409 for `no_account`, `account_closed` or `voided`. A
 *   repeat for the same order repeats the first answer and never withdraws twice.
 * - `POST /payments/:orderId/refund {userId}` → 200 `{orderId, status}`: refunds a completed payment once, or
 *   leaves a VOIDED tombstone so that a late payment for the order is refused.
 */
@Controller('payments')
export class ProcessPaymentSyncController {
  constructor(private readonly db: DataSource) {}

  @Post()
  @Access('service')
  @HttpCode(201)
  async pay(@Body() body: unknown): Promise<{ orderId: string; outcome: 'completed'; amount: number }> {
    const { orderId, userId, amount } = parseRequest(ProcessPaymentSyncRequest, body);
    const outcome = await retryable(() =>
      this.db.transaction((manager) => payOnce(manager, { orderId, userId, amount }, { correlationId: orderId })),
    );
    if (outcome.outcome === 'completed') return { orderId, outcome: 'completed', amount: outcome.amount };
    throw refused(orderId, outcome.reason);
  }

  @Post(':orderId/refund')
  @Access('service')
  @HttpCode(200)
  async refund(
    @Param('orderId') rawOrderId: string,
    @Body() body: unknown,
  ): Promise<{ orderId: string; status: string }> {
    const orderId = parseRequest(OrderIdParam, rawOrderId);
    const { userId } = parseRequest(RefundPaymentSyncRequest, body);
    const status = await retryable(() =>
      this.db.transaction(async (manager) => {
        const decision = decideRefund(await lockPaymentRecord(manager, orderId));
        if (decision.action === 'void') {
          await insertPaymentRecord(manager, { orderId, accountId: userId, status: 'VOIDED', amount: null });
          return 'VOIDED';
        }
        if (decision.action === 'none') return 'UNCHANGED';
        const outcome = await runAccountCommand(
          manager,
          { type: 'Deposit', data: { accountId: decision.accountId, amount: decision.amount, orderId } },
          { origin: { correlationId: orderId } },
        );
        if (!outcome.ok) throw new ConflictException(`refund of order ${orderId} refused: ${outcome.error.message}`);
        await markRefunded(manager, orderId);
        return 'REFUNDED';
      }),
    );
    return { orderId, status };
  }
}

/** An account so busy that every attempt lost to another writer: the caller may try again (503). */
async function retryable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ConcurrencyRetriesExhaustedError) throw new ServiceUnavailableException(error.message);
    throw error;
  }
}

function refused(orderId: string, reason: PaymentFailureReason): HttpException {
  const status = reason === 'insufficient_funds' ? HttpStatus.PAYMENT_REQUIRED : HttpStatus.CONFLICT;
  return new HttpException(
    {
      statusCode: status,
      error: status === HttpStatus.PAYMENT_REQUIRED ? 'Payment Required' : 'Conflict',
      message: `order ${orderId}: payment refused (${reason})`,
      orderId,
      reason,
    },
    status,
  );
}
