import { Module } from '@nestjs/common';
import { GetStockController } from './get-stock/get-stock.controller.js';
import { ReleaseStockHandler } from './release-stock/release-stock.handler.js';
import { ReserveStockHandler } from './reserve-stock/reserve-stock.handler.js';
import { SetStockController } from './set-stock/set-stock.controller.js';

/** The inventory use cases: the stock routes and the two saga handlers. */
@Module({ controllers: [SetStockController, GetStockController, ReserveStockHandler, ReleaseStockHandler] })
export class InventoryModule {}
