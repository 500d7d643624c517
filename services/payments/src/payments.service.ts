import type { ServiceDefinition } from '@am/messaging';
import { migrations } from './migrations/index.js';
import { paymentsOrderFlowSubscription } from './order-flow/order-flow.subscription.js';
import { paymentsAccountsSubscription } from './open-account/payments-accounts.subscription.js';
import { PaymentsModule } from './payments.module.js';
import { paymentProcessSubscription } from './process-payment/payment-process.subscription.js';
import { paymentRefundSubscription } from './refund-payment/payment-refund.subscription.js';

/** The payments service: event-sourced accounts, payments for the order saga and the choreographed order flow, and their HTTP API. */
export const paymentsService: ServiceDefinition = {
  service: 'payments',
  imports: [PaymentsModule],
  migrations,
  amqp: [
    paymentProcessSubscription,
    paymentRefundSubscription,
    paymentsAccountsSubscription,
    paymentsOrderFlowSubscription,
  ],
};
