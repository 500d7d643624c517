import { expect } from 'vitest';
import {
  decide,
  orderSaga,
  type SagaInput,
  type SagaStep,
} from '../../services/orders/src/order-saga/order-saga.saga.js';
import type { Cases } from '../lib.js';
import type { CompensationsFor } from './types.js';

/** The order saga with a shipping step added after the payment (the exercise's "add a saga step"). */
const withShipping: SagaStep[] = [
  ...orderSaga.filter((s) => s.kind === 'remote'),
  {
    kind: 'remote',
    name: 'book-shipping',
    // The project's saga has four command types; a new step would add its own (`shipping.book`, `shipping.cancel`).
    command: 'shipping.book' as never,
    succeeded: 'shipping.booked' as never,
    failed: 'shipping.refused' as never,
    failureReason: 'out_of_stock',
    compensation: 'shipping.cancel' as never,
  },
  { kind: 'local', name: 'notify-warehouse', action: 'confirm-order' },
  ...orderSaga.filter((s) => s.kind === 'local'),
];

export const cases: Cases<CompensationsFor> = {
  'nothing completed, nothing to undo': (compensations) => {
    expect(compensations([], orderSaga)).toEqual([]);
  },
  'undoes in the reverse order of doing: refund the payment, then release the stock': (compensations) => {
    expect(compensations(['reserve-inventory', 'process-payment'], orderSaga)).toEqual([
      'payment.refund',
      'inventory.release',
    ]);
  },
  'agrees with the saga itself: the payment fails after the reservation, the saga releases it': (compensations) => {
    const now = new Date('2030-01-01T00:00:00Z');
    const placed: SagaInput = { type: 'order.placed', sagaId: 's', orderId: 'o', userId: 'u', items: [], total: 1 };
    const reserving = decide(undefined, placed, now, 1_000)!.state;
    const paying = decide(reserving, { type: 'inventory.reserved', sagaId: 's' }, now, 1_000)!.state;
    const failed = decide(paying, { type: 'payment.failed', sagaId: 's' }, now, 1_000)!;
    const sent = failed.outputs.flatMap((o) => (o.kind === 'send' ? [o.command] : []));
    expect(compensations(paying.completed, orderSaga)).toEqual(sent);
  },
  'works for a saga with one more step: the new step is undone first, local steps have nothing to undo': (
    compensations,
  ) => {
    expect(
      compensations(['reserve-inventory', 'process-payment', 'book-shipping', 'notify-warehouse'], withShipping),
    ).toEqual(['shipping.cancel', 'payment.refund', 'inventory.release']);
  },
  'refuses a step the saga does not have, rather than silently leaving it undone': (compensations) => {
    expect(() => compensations(['reserve-inventory', 'teleport'], orderSaga)).toThrow(/teleport/);
  },
};
