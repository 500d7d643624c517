import { Exchanges, Queues, queues } from '@am/messaging';
import { decide, orderSaga, type OrderSagaState, type SagaInput, type SagaOutput } from './order-saga.saga.js';

/** The input that starts every run the diagrams draw. */
const placed: SagaInput = {
  type: 'order.placed',
  sagaId: 's',
  orderId: 'o',
  userId: 'u',
  items: [{ sku: 'SKU', quantity: 1, unitPrice: 1 }],
  total: 1,
};

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

/** The stories the saga pages draw: every step succeeds, the payment fails, the payment never answers. */
export type SagaScenario = 'confirmed' | 'payment-failed' | 'timeout';

/**
 * One saga run as a Mermaid sequence diagram, found by feeding the saga's own `decide` the replies of `scenario`
 * (for each remote step in turn: its success, except that the last one fails or times out), and drawing each output:
 * the command through `saga-commands` to the queue of its name, the participant that consumes that queue (from the
 * topology), and its reply through `saga-replies` to the orchestrator's queue.
 */
export function sagaSequenceMermaid(scenario: SagaScenario): string {
  const now = new Date('2030-01-01T00:00:00Z');
  const later = new Date(now.getTime() + 60_000);
  const remote = orderSaga.filter((s): s is Extract<typeof s, { kind: 'remote' }> => s.kind === 'remote');
  const consumerOf = (command: string) => {
    const queue = queues.find((q) => q.name === command);
    if (!queue) throw new Error(`no queue for the saga command ${command}`);
    return queue.consumer;
  };
  const participants = [...new Set(remote.flatMap((s) => [s.command, s.compensation ?? s.command]).map(consumerOf))];
  const lines = [
    'sequenceDiagram',
    '  actor client',
    '  participant orders as orders (saga orchestrator)',
    ...participants.map((p) => `  participant ${p}`),
    '  client->>orders: POST /orders (202), then order.placed from order-processing',
  ];
  const draw = (outputs: SagaOutput[]) => {
    for (const output of outputs) {
      if (output.kind === 'send') {
        lines.push(
          `  orders->>${consumerOf(output.command)}: ${output.command} (${Exchanges.sagaCommands} → ${output.command})`,
        );
      } else if (output.kind === 'confirm-order') {
        lines.push('  Note over orders: order CONFIRMED, order.confirmed to order-events (outbox)');
      } else {
        lines.push(`  Note over orders: order CANCELLED (${output.reason}), order.cancelled to order-events (outbox)`);
      }
    }
  };
  let decision = decide(undefined, placed, now, 1_000)!;
  draw(decision.outputs);
  remote.forEach((step, i) => {
    if (decision.state.status !== 'RUNNING') return;
    const last = i === remote.length - 1;
    const replier = consumerOf(step.command);
    if (last && scenario === 'timeout') {
      lines.push(`  Note over orders,${replier}: no reply before the step's deadline (SAGA_STEP_TIMEOUT_MS)`);
      decision = decide(decision.state, { type: 'deadline-passed' }, later, 1_000)!;
    } else {
      const reply = last && scenario === 'payment-failed' ? step.failed : step.succeeded;
      lines.push(`  ${replier}-->>orders: ${reply} (${Exchanges.sagaReplies} → ${Queues.sagaReplies})`);
      decision = decide(decision.state, { type: reply, sagaId: decision.state.sagaId }, now, 1_000)!;
    }
    draw(decision.outputs);
  });
  return lines.join('\n');
}
