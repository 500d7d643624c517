import type { ServiceDefinition } from '@am/messaging';
import { migrations } from './migrations/index.js';
import { ordersOrderFlowSubscription } from './order-flow/order-flow.subscription.js';
import { sagaRepliesSubscription } from './order-saga/saga-replies.subscription.js';
import { OrdersModule } from './orders.module.js';
import { orderProcessingSubscription } from './place-order/order-processing.subscription.js';

export const ordersService: ServiceDefinition = {
  service: 'orders',
  imports: [OrdersModule],
  migrations,
  // Customers get their bearer token from POST /users: orders holds the signing key.
  issuesTokens: true,
  // GET /availability asks inventory over RabbitMQ and waits (request/reply): each process has its reply queue.
  requests: true,
  amqp: [orderProcessingSubscription, sagaRepliesSubscription, ordersOrderFlowSubscription],
};
