import type { ReservationStatus, StockLevel, StockLine } from '../reservations/reservation.js';

/** Why a reservation was refused; the values are those of `inventory.reservation-failed`. */
export type ReservationFailure = 'out_of_stock' | 'released';

/**
 * What to do with an `inventory.reserve` command:
 * - `reserve`: take `lines` (one per SKU, quantities summed) from `available` into `reserved`, store RESERVED.
 * - `reject`: store REJECTED and reply out_of_stock with the short SKUs; nothing is taken.
 * - `repeat-reserved` / `repeat-failed`: the order was decided before; answer the same way again, change nothing.
 */
export type ReserveDecision =
  | { kind: 'reserve'; lines: StockLine[] }
  | { kind: 'reject'; shortSkus: string[] }
  | { kind: 'repeat-reserved' }
  | { kind: 'repeat-failed'; reason: ReservationFailure; shortSkus: string[] };

/** Sums the quantities per SKU (an order may name one SKU twice), sorted by SKU. */
export function linesPerSku(items: readonly StockLine[]): StockLine[] {
  const totals = new Map<string, number>();
  for (const { sku, quantity } of items) totals.set(sku, (totals.get(sku) ?? 0) + quantity);
  return [...totals].map(([sku, quantity]) => ({ sku, quantity })).sort((a, b) => compare(a.sku, b.sku));
}

/**
 * Pattern: decider. Given what inventory already decided for this order (if anything) and the stock levels of
 * the order's SKUs, decides the outcome of a reservation: all lines or none. An unknown SKU counts as short.
 * A decision that exists already is repeated, so a redelivered or duplicated command never reserves twice, and
 * a reserve that arrives after its release (RELEASED) is refused rather than taking stock nobody will release.
 */
export function decideReserve(
  existing: ReservationStatus | undefined,
  stock: readonly StockLevel[],
  items: readonly StockLine[],
): ReserveDecision {
  if (existing !== undefined) return repeat(existing);
  const lines = linesPerSku(items);
  const available = new Map(stock.map((level) => [level.sku, level.available]));
  const shortSkus = lines.filter((line) => (available.get(line.sku) ?? 0) < line.quantity).map((line) => line.sku);
  return shortSkus.length > 0 ? { kind: 'reject', shortSkus } : { kind: 'reserve', lines };
}

function repeat(existing: ReservationStatus): ReserveDecision {
  switch (existing) {
    case 'RESERVED':
      return { kind: 'repeat-reserved' };
    case 'REJECTED':
      // The short SKUs of the first answer are not kept; the saga acts on the reason alone.
      return { kind: 'repeat-failed', reason: 'out_of_stock', shortSkus: [] };
    case 'RELEASED':
      return { kind: 'repeat-failed', reason: 'released', shortSkus: [] };
    default: {
      const _exhaustive: never = existing;
      return _exhaustive;
    }
  }
}

/** Code-point order, the same on every machine (unlike `localeCompare`), so lines and short SKUs are stable. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
