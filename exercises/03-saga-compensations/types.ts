import type { SagaCommandType, SagaStep } from '../../services/orders/src/order-saga/order-saga.saga.js';

/** The commands that undo `completed` (names of steps of `saga`, in the order they succeeded), in sending order. */
export type CompensationsFor = (completed: readonly string[], saga: readonly SagaStep[]) => SagaCommandType[];
