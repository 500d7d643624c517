import { describe, expect, it } from 'vitest';
import { decide, type OrderSagaState, type SagaInput, type SagaOutput } from './order-saga.saga.js';

const TIMEOUT = 5_000;
const T0 = new Date('2026-11-29T10:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const sagaId = '11111111-1111-4111-8111-111111111111';

const orderPlaced: SagaInput = {
  type: 'order.placed',
  sagaId,
  orderId: '22222222-2222-4222-8222-222222222222',
  userId: '33333333-3333-4333-8333-333333333333',
  items: [{ sku: 'BOOK', quantity: 2, unitPrice: 1250 }],
  total: 2500,
};
const inventoryReserved: SagaInput = { type: 'inventory.reserved', sagaId };
const reservationFailed: SagaInput = { type: 'inventory.reservation-failed', sagaId };
const paymentCompleted: SagaInput = { type: 'payment.completed', sagaId };
const paymentFailed: SagaInput = { type: 'payment.failed', sagaId };
const deadlinePassed: SagaInput = { type: 'deadline-passed' };

const send = (command: string): SagaOutput => ({ kind: 'send', command }) as SagaOutput;
const confirmOrder: SagaOutput = { kind: 'confirm-order' };
const cancelOrder = (reason: 'out_of_stock' | 'payment_failed' | 'timeout'): SagaOutput => ({
  kind: 'cancel-order',
  reason,
});

/** An input that arrives at a given time rather than 1 ms after the previous one. */
const timed = (input: SagaInput, when: Date) => ({ input, when });

/** Given the inputs so far (1 ms apart unless timed), when one more arrives at `whenAt`, then these outputs. */
function given(...history: (SagaInput | ReturnType<typeof timed>)[]) {
  let state: OrderSagaState | undefined;
  history.forEach((entry, i) => {
    const { input, when } = 'input' in entry ? entry : { input: entry, when: at(i) };
    state = decide(state, input, when, TIMEOUT)?.state;
  });
  return {
    when(input: SagaInput, whenAt = at(history.length)) {
      const decision = decide(state, input, whenAt, TIMEOUT);
      return {
        then(outputs: SagaOutput[], expected: Partial<OrderSagaState> = {}) {
          expect(decision?.outputs).toEqual(outputs);
          expect(decision?.state).toMatchObject(expected);
          return decision!.state;
        },
      };
    },
  };
}

describe('order saga', () => {
  it('reserves inventory first when an order is placed, with a deadline', () => {
    given()
      .when(orderPlaced, T0)
      .then([send('inventory.reserve')], {
        step: 'reserve-inventory',
        status: 'RUNNING',
        deadline: at(TIMEOUT).toISOString(),
        completed: [],
      });
  });

  it('processes the payment once the inventory is reserved, with a new deadline', () => {
    given(orderPlaced)
      .when(inventoryReserved, at(1_000))
      .then([send('payment.process')], {
        step: 'process-payment',
        completed: ['reserve-inventory'],
        deadline: at(1_000 + TIMEOUT).toISOString(),
      });
  });

  it('confirms the order when the payment completes', () => {
    given(orderPlaced, inventoryReserved)
      .when(paymentCompleted)
      .then([confirmOrder], { status: 'CONFIRMED', step: 'confirm-order', deadline: null });
  });

  it('cancels with out_of_stock when the reservation fails, and compensates nothing', () => {
    given(orderPlaced)
      .when(reservationFailed)
      .then([cancelOrder('out_of_stock')], { status: 'CANCELLED', reason: 'out_of_stock', deadline: null });
  });

  it('releases inventory when payment fails', () => {
    given(orderPlaced, inventoryReserved)
      .when(paymentFailed)
      .then([send('inventory.release'), cancelOrder('payment_failed')], {
        status: 'CANCELLED',
        reason: 'payment_failed',
      });
  });

  it('on a timeout while reserving, releases whatever may have been reserved and cancels with timeout', () => {
    given(orderPlaced)
      .when(deadlinePassed, at(TIMEOUT + 1))
      .then([send('inventory.release'), cancelOrder('timeout')], { status: 'CANCELLED', reason: 'timeout' });
  });

  it('on a timeout while paying, compensates in reverse order: refund, then release', () => {
    given(orderPlaced, inventoryReserved)
      .when(deadlinePassed, at(1 + TIMEOUT + 1))
      .then([send('payment.refund'), send('inventory.release'), cancelOrder('timeout')], { reason: 'timeout' });
  });

  it('does nothing when the deadline has not passed yet', () => {
    given(orderPlaced)
      .when(deadlinePassed, at(TIMEOUT - 1))
      .then([], { status: 'RUNNING' });
  });

  it('ignores a late reply after a timeout', () => {
    given(orderPlaced, inventoryReserved, timed(deadlinePassed, at(TIMEOUT + 10)))
      .when(paymentCompleted, at(60_000))
      .then([], { status: 'CANCELLED', reason: 'timeout' });
  });

  it('ignores a duplicate reply of a step already done', () => {
    given(orderPlaced, inventoryReserved).when(inventoryReserved).then([], { step: 'process-payment' });
  });

  it('ignores a reply meant for another step', () => {
    given(orderPlaced).when(paymentCompleted).then([], { step: 'reserve-inventory', status: 'RUNNING' });
  });

  it('ignores a reply that quotes another saga', () => {
    given(orderPlaced).when({ type: 'inventory.reserved', sagaId: 'another' }).then([], { step: 'reserve-inventory' });
  });

  it('ignores a second order.placed for the same saga', () => {
    given(orderPlaced).when(orderPlaced).then([], { step: 'reserve-inventory' });
  });

  it('ignores anything once the saga is confirmed', () => {
    given(orderPlaced, inventoryReserved, paymentCompleted).when(paymentFailed).then([], { status: 'CONFIRMED' });
    given(orderPlaced, inventoryReserved, paymentCompleted)
      .when(deadlinePassed, at(999_999))
      .then([], { status: 'CONFIRMED' });
  });

  it('has no decision for a reply without a saga', () => {
    expect(decide(undefined, inventoryReserved, T0, TIMEOUT)).toBeUndefined();
  });
});
