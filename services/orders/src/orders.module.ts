import { Module } from '@nestjs/common';
import { CheckAvailabilityController } from './check-availability/check-availability.controller.js';
import { GetOrderController } from './get-order/get-order.controller.js';
import { ListSagasController } from './list-sagas/list-sagas.controller.js';
import { OrderFlowRunner } from './order-flow/order-flow.runner.js';
import { OrdersOrderFlowReactions } from './order-flow/order-flow.reactions.js';
import { OrderSagaRunner } from './order-saga/order-saga.runner.js';
import { SagaReplyHandler } from './order-saga/saga-reply.handler.js';
import { SagaTimeoutsWorker } from './order-saga/saga-timeouts.worker.js';
import { PlaceOrderController } from './place-order/place-order.controller.js';
import { PlaceOrderHandler } from './place-order/place-order.handler.js';
import { PlaceOrderSyncController } from './place-order-sync/place-order-sync.controller.js';
import { KnownUsers } from './users/known-users.js';
import { RegisterUserController } from './users/register-user.controller.js';

@Module({
  controllers: [
    PlaceOrderController,
    PlaceOrderSyncController,
    GetOrderController,
    ListSagasController,
    CheckAvailabilityController,
    RegisterUserController,
    PlaceOrderHandler,
    SagaReplyHandler,
    OrdersOrderFlowReactions,
  ],
  providers: [OrderSagaRunner, OrderFlowRunner, SagaTimeoutsWorker, KnownUsers],
})
export class OrdersModule {}
