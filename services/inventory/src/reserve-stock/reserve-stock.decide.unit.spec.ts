import { describe, expect, it } from 'vitest';
import type { ReservationStatus, StockLevel, StockLine } from '../reservations/reservation.js';
import { decideReserve, linesPerSku, type ReserveDecision } from './reserve-stock.decide.js';

// Given what inventory holds (an earlier decision for the order, the stock levels), when the order asks for
// items, then this is the decision.
const given = (stock: StockLevel[], existing?: ReservationStatus) => ({
  when: (items: StockLine[]) => ({
    then: (expected: ReserveDecision) => expect(decideReserve(existing, stock, items)).toEqual(expected),
  }),
});
const level = (sku: string, available: number): StockLevel => ({ sku, available });
const item = (sku: string, quantity: number): StockLine => ({ sku, quantity });

describe('reserve stock', () => {
  it('reserves every line when each SKU has enough', () => {
    given([level('A', 5), level('B', 1)])
      .when([item('B', 1), item('A', 5)])
      .then({ kind: 'reserve', lines: [item('A', 5), item('B', 1)] });
  });

  it('sums a SKU that the order names twice, and reserves when the sum fits', () => {
    given([level('A', 5)])
      .when([item('A', 2), item('A', 3)])
      .then({ kind: 'reserve', lines: [item('A', 5)] });
  });

  it('rejects a SKU that the order names twice when only each line alone would fit', () => {
    given([level('A', 4)])
      .when([item('A', 2), item('A', 3)])
      .then({ kind: 'reject', shortSkus: ['A'] });
  });

  it('rejects the whole order, naming only the short SKUs, when one SKU is short', () => {
    given([level('A', 5), level('B', 1), level('C', 0)])
      .when([item('A', 1), item('C', 1), item('B', 2)])
      .then({ kind: 'reject', shortSkus: ['B', 'C'] });
  });

  it('counts a SKU that inventory does not know as short', () => {
    given([level('A', 5)])
      .when([item('A', 1), item('UNKNOWN', 1)])
      .then({ kind: 'reject', shortSkus: ['UNKNOWN'] });
  });

  it('takes the last unit: exactly enough is enough', () => {
    given([level('A', 1)])
      .when([item('A', 1)])
      .then({ kind: 'reserve', lines: [item('A', 1)] });
  });

  it('answers reserved again, without a second reservation, when the order is reserved already', () => {
    given([level('A', 0)], 'RESERVED')
      .when([item('A', 1)])
      .then({ kind: 'repeat-reserved' });
  });

  it('answers out of stock again when the order was rejected, even if stock has arrived since', () => {
    given([level('A', 100)], 'REJECTED')
      .when([item('A', 1)])
      .then({ kind: 'repeat-failed', reason: 'out_of_stock', shortSkus: [] });
  });

  it('refuses a reserve that arrives after its release, so it cannot take stock nobody will release', () => {
    given([level('A', 100)], 'RELEASED')
      .when([item('A', 1)])
      .then({ kind: 'repeat-failed', reason: 'released', shortSkus: [] });
  });
});

describe('lines per SKU', () => {
  it('sums quantities per SKU and sorts by code point, the same on every machine', () => {
    expect(linesPerSku([item('b', 1), item('B', 2), item('b', 3), item('a', 1)])).toEqual([
      item('B', 2),
      item('a', 1),
      item('b', 4),
    ]);
  });
});
