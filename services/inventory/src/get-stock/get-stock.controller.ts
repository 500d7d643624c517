import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Access, parseRequest } from '@am/messaging';
import type { StockLevelView } from '../reservations/stock-level.view.js';
import { SkuParam } from '../set-stock/set-stock.request.js';

/** `GET /stock/:sku`: the stock level of a SKU, 404 when inventory has never heard of it. */
@Controller('stock')
export class GetStockController {
  constructor(private readonly db: DataSource) {}

  @Get(':sku')
  @Access('customer', 'operator', 'service')
  async get(@Param('sku') sku: string): Promise<StockLevelView> {
    const valid = parseRequest(SkuParam, sku);
    const [row] = await this.db.query<StockLevelView[]>('SELECT sku, available, reserved FROM stock WHERE sku = $1', [
      valid,
    ]);
    if (!row) throw new NotFoundException(`unknown sku ${valid}`);
    return row;
  }
}
