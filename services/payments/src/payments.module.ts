import { Module } from '@nestjs/common';
import { AccountEventsController } from './account-history/account-events.controller.js';
import { DepositController } from './deposit/deposit.controller.js';
import { GetAccountController } from './get-account/get-account.controller.js';
import { OpenAccountHandler } from './open-account/open-account.handler.js';
import { ProcessPaymentHandler } from './process-payment/process-payment.handler.js';
import { RefundPaymentHandler } from './refund-payment/refund-payment.handler.js';

/** The payments use cases: HTTP controllers and the handlers of its three queues. */
@Module({
  controllers: [
    DepositController,
    GetAccountController,
    AccountEventsController,
    OpenAccountHandler,
    ProcessPaymentHandler,
    RefundPaymentHandler,
  ],
})
export class PaymentsModule {}
