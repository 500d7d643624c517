import { StockChecked, causedBy, type CheckStock, type Envelope } from '@am/contracts';
import type { DataSource } from 'typeorm';

/**
 * Answers `inventory.check-stock`: the SKU's available quantity (0 for a SKU never stocked) and whether it covers
 * the quantity asked. A read only: nothing is reserved, so the answer may be stale by the time an order comes.
 */
export async function checkStock(request: Envelope, db: DataSource): Promise<StockChecked> {
  const { sku, quantity } = (request as CheckStock).data;
  const [row] = await db.query<{ available: number }[]>('SELECT available FROM stock WHERE sku = $1', [sku]);
  const available = row?.available ?? 0;
  return StockChecked.create({ sku, quantity, available, enough: available >= quantity }, causedBy(request));
}
