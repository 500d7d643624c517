import { Module } from '@nestjs/common';
import { AccountEventsController } from './account-history/account-events.controller.js';
import { DepositController } from './deposit/deposit.controller.js';
import { GetAccountController } from './get-account/get-account.controller.js';
import { PaymentsOrderFlowReactions } from './order-flow/order-flow.reactions.js';
import { OpenAccountHandler } from './open-account/open-account.handler.js';
import { ProcessPaymentHandler } from './process-payment/process-payment.handler.js';
import { ProcessPaymentSyncController } from './process-payment-sync/process-payment-sync.controller.js';
import { RefundPaymentHandler } from './refund-payment/refund-payment.handler.js';

/**
 * The payments use cases: HTTP controllers, the handlers of its three queues, and the synchronous payment routes
 * of the load-leveling baseline (`POST /orders/sync`).
 */
@Module({
  controllers: [
    DepositController,
    GetAccountController,
    AccountEventsController,
    OpenAccountHandler,
    ProcessPaymentHandler,
    RefundPaymentHandler,
    PaymentsOrderFlowReactions,
    ProcessPaymentSyncController,
  ],
})
export class PaymentsModule {}
