import { decide, orderSaga, type OrderSagaState, type SagaInput, type SagaOutput } from './order-saga.saga.js';

const describeOutputs = (outputs: SagaOutput[]) =>
  outputs
    .map((o) =>
      o.kind === 'send' ? `send ${o.command}` : o.kind === 'cancel-order' ? `cancel (${o.reason})` : 'confirm',
    )
    .join(', ');

const node = (state: OrderSagaState) =>
  state.status === 'RUNNING' ? state.step.replace(/-/g, '_') : state.status === 'CONFIRMED' ? 'CONFIRMED' : 'CANCELLED';

/**
 * The order saga as a Mermaid state diagram, found by running the saga's own `decide` from `order.placed` through
 * every reply and every deadline of every step it reaches, so the picture is what the code does.
 */
export function sagaMermaid(): string {
  const now = new Date('2030-01-01T00:00:00Z');
  const later = new Date(now.getTime() + 60_000);
  const placed: SagaInput = {
    type: 'order.placed',
    sagaId: 's',
    orderId: 'o',
    userId: 'u',
    items: [{ sku: 'SKU', quantity: 1, unitPrice: 1 }],
    total: 1,
  };
  const lines = ['stateDiagram-v2'];
  const start = decide(undefined, placed, now, 1_000)!;
  lines.push(`  [*] --> ${node(start.state)}: order.placed / ${describeOutputs(start.outputs)}`);
  const queue = [start.state];
  const seen = new Set<string>();
  const ends = new Set<string>();
  while (queue.length > 0) {
    const state = queue.shift()!;
    if (state.status !== 'RUNNING') {
      ends.add(node(state));
      continue;
    }
    if (seen.has(state.step)) continue;
    seen.add(state.step);
    const step = orderSaga.find((s) => s.name === state.step);
    if (step?.kind !== 'remote') continue;
    const inputs: [string, SagaInput, Date][] = [
      [step.succeeded, { type: step.succeeded, sagaId: state.sagaId }, now],
      [step.failed, { type: step.failed, sagaId: state.sagaId }, now],
      ['deadline passed', { type: 'deadline-passed' }, later],
    ];
    for (const [label, input, at] of inputs) {
      const next = decide(state, input, at, 1_000)!;
      const outputs = describeOutputs(next.outputs);
      lines.push(`  ${node(state)} --> ${node(next.state)}: ${label}${outputs ? ` / ${outputs}` : ''}`);
      queue.push(next.state);
    }
  }
  for (const end of [...ends].sort()) lines.push(`  ${end} --> [*]`);
  return lines.join('\n');
}
