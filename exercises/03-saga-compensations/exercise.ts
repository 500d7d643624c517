import type { SagaCommandType, SagaStep } from '../../services/orders/src/order-saga/order-saga.saga.js';
import { NotYetImplemented } from '../lib.js';

/** Which commands undo the completed steps, and in which order. Write it: see README.md. */
export function compensationsFor(_completed: readonly string[], _saga: readonly SagaStep[]): SagaCommandType[] {
  throw new NotYetImplemented('compensationsFor');
}
