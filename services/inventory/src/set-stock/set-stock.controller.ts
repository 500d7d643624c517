import { Body, Controller, Param, Put } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Access, parseRequest } from '@am/messaging';
import type { StockLevelView } from '../reservations/stock-level.view.js';
import { SetStockRequest, SkuParam } from './set-stock.request.js';

/**
 * `PUT /stock/:sku {quantity}`: sets the available quantity of a SKU, creating it when it is new. What
 * reservations hold is left alone: they still owe it to their orders.
 */
@Controller('stock')
export class SetStockController {
  constructor(private readonly db: DataSource) {}

  @Put(':sku')
  @Access('operator')
  async set(@Param('sku') sku: string, @Body() body: unknown): Promise<StockLevelView> {
    const valid = parseRequest(SkuParam, sku);
    const { quantity } = parseRequest(SetStockRequest, body);
    // One atomic upsert: it takes the row lock, so it waits for reservations in flight instead of racing them.
    // An upsert with RETURNING always yields exactly one row.
    const [row] = await this.db.query<[StockLevelView]>(
      `INSERT INTO stock (sku, available, reserved) VALUES ($1, $2, 0)
       ON CONFLICT (sku) DO UPDATE SET available = EXCLUDED.available, updated_at = now()
       RETURNING sku, available, reserved`,
      [valid, quantity],
    );
    return row;
  }
}
