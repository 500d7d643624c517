/** Where a reservation stands. RELEASED is final: the saga compensated it, or released it before it arrived. */
export type ReservationStatus = 'RESERVED' | 'RELEASED' | 'REJECTED';

/** Units of one SKU, as requested by an order or as held by a reservation. */
export interface StockLine {
  sku: string;
  quantity: number;
}

/** The stock level of one SKU as the decision needs it. */
export interface StockLevel {
  sku: string;
  available: number;
}
