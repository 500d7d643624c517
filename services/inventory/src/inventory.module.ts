import { Module } from '@nestjs/common';
import { GetStockController } from './get-stock/get-stock.controller.js';
import { InventoryOrderFlowReactions } from './order-flow/order-flow.reactions.js';
import { ReleaseStockHandler } from './release-stock/release-stock.handler.js';
import { ReserveStockHandler } from './reserve-stock/reserve-stock.handler.js';
import { ReserveStockSyncController } from './reserve-stock-sync/reserve-stock-sync.controller.js';
import { SetStockController } from './set-stock/set-stock.controller.js';

/**
 * The inventory use cases: the stock routes, the two saga handlers, the choreographed flow's reactions, and the synchronous reservation routes of
 * the load-leveling baseline (`POST /orders/sync`).
 */
@Module({
  controllers: [
    SetStockController,
    GetStockController,
    ReserveStockHandler,
    ReleaseStockHandler,
    InventoryOrderFlowReactions,
    ReserveStockSyncController,
  ],
})
export class InventoryModule {}
