/** The body of both stock routes: what is on hand (`available`) and what reservations hold (`reserved`). */
export interface StockLevelView {
  sku: string;
  available: number;
  reserved: number;
}
