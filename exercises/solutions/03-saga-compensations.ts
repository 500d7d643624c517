import type { SagaCommandType, SagaStep } from '../../services/orders/src/order-saga/order-saga.saga.js';

/** Reference solution: the completed steps backwards, each remote step's compensation if it has one. */
export function compensationsFor(completed: readonly string[], saga: readonly SagaStep[]): SagaCommandType[] {
  return [...completed].reverse().flatMap((name) => {
    const step = saga.find((s) => s.name === name);
    if (!step) throw new Error(`the saga has no step ${name}`);
    return step.kind === 'remote' && step.compensation ? [step.compensation] : [];
  });
}
