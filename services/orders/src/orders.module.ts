import { Module } from '@nestjs/common';
import { GetOrderController } from './get-order/get-order.controller.js';
import { PlaceOrderController } from './place-order/place-order.controller.js';
import { PlaceOrderHandler } from './place-order/place-order.handler.js';
import { RegisterUserController } from './users/register-user.controller.js';

@Module({ controllers: [PlaceOrderController, GetOrderController, RegisterUserController, PlaceOrderHandler] })
export class OrdersModule {}
