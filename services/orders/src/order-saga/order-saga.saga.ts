import type { CancellationReason, OrderItem } from '@am/contracts';

/**
 * The order saga (pattern: orchestrated saga), declared as a list of steps read top to bottom. A remote step
 * sends a command and waits for one of two replies; its compensation undoes it when a later step fails or
 * when any step runs out of time. Everything here is pure: the clock comes in as an argument, and the
 * decisions come out as outputs for the messaging library to send.
 */

/** The commands the saga sends, by message type. */
export type SagaCommandType = 'inventory.reserve' | 'inventory.release' | 'payment.process' | 'payment.refund';
/** The replies the saga listens to, by message type. */
export type SagaReplyType =
  'inventory.reserved' | 'inventory.reservation-failed' | 'payment.completed' | 'payment.failed';

export interface RemoteStep {
  kind: 'remote';
  name: string;
  command: SagaCommandType;
  succeeded: SagaReplyType;
  failed: SagaReplyType;
  /** The order's cancellation reason when this step fails. */
  failureReason: CancellationReason;
  /** The command that undoes this step; idempotent, and safe to send when the step never happened. */
  compensation?: SagaCommandType;
}

export interface LocalStep {
  kind: 'local';
  name: string;
  action: 'confirm-order';
}

export type SagaStep = RemoteStep | LocalStep;

function step(name: string, options: Omit<RemoteStep, 'kind' | 'name'> | Omit<LocalStep, 'kind' | 'name'>): SagaStep {
  return 'action' in options ? { kind: 'local', name, ...options } : { kind: 'remote', name, ...options };
}

export const orderSaga: readonly SagaStep[] = [
  step('reserve-inventory', {
    command: 'inventory.reserve',
    succeeded: 'inventory.reserved',
    failed: 'inventory.reservation-failed',
    failureReason: 'out_of_stock',
    compensation: 'inventory.release',
  }),
  step('process-payment', {
    command: 'payment.process',
    succeeded: 'payment.completed',
    failed: 'payment.failed',
    failureReason: 'payment_failed',
    compensation: 'payment.refund',
  }),
  step('confirm-order', { action: 'confirm-order' }),
];

/**
 * The business outcome of a participant's answer, the same for both flows (the choreographed flow's orders decides
 * with it too): a step's failure cancels the order with the step's reason, the last remote step's success
 * confirms it, anything else decides nothing for the order.
 */
export function orderOutcomeOf(
  type: SagaReplyType,
): { kind: 'confirm-order' } | { kind: 'cancel-order'; reason: CancellationReason } | undefined {
  const remote = orderSaga.filter((s): s is RemoteStep => s.kind === 'remote');
  const failed = remote.find((s) => s.failed === type);
  if (failed) return { kind: 'cancel-order', reason: failed.failureReason };
  return remote.at(-1)?.succeeded === type ? { kind: 'confirm-order' } : undefined;
}

/** How many steps wait for another service: the choreographed flow's deadline allows each its step timeout. */
export const remoteStepCount = orderSaga.filter((s) => s.kind === 'remote').length;

export type SagaStatus = 'RUNNING' | 'CONFIRMED' | 'CANCELLED';

/** The persisted state of one saga: which step it is at, how it ended, and until when it waits. */
export interface OrderSagaState {
  sagaId: string;
  orderId: string;
  userId: string;
  items: OrderItem[];
  total: number;
  /** Name of the step the saga waits on, or of the step it ended at. */
  step: string;
  status: SagaStatus;
  reason: CancellationReason | null;
  /** When the current step times out (ISO time); null once the saga has ended. */
  deadline: string | null;
  /** Names of the remote steps that succeeded, in order. */
  completed: string[];
}

export type SagaInput =
  | { type: 'order.placed'; sagaId: string; orderId: string; userId: string; items: OrderItem[]; total: number }
  | { type: SagaReplyType; sagaId: string }
  | { type: 'deadline-passed' };

export type SagaOutput =
  | { kind: 'send'; command: SagaCommandType }
  | { kind: 'confirm-order' }
  | { kind: 'cancel-order'; reason: CancellationReason };

export interface SagaDecision {
  state: OrderSagaState;
  outputs: SagaOutput[];
}

/** Nothing to do: a late, duplicate or unrelated input leaves the saga as it is. */
const ignore = (state: OrderSagaState): SagaDecision => ({ state, outputs: [] });

const deadlineAfter = (now: Date, timeoutMs: number) => new Date(now.getTime() + timeoutMs).toISOString();

/** Runs local steps at once and stops at the next remote step, which it starts. */
function advance(state: OrderSagaState, index: number, now: Date, timeoutMs: number): SagaDecision {
  const next = orderSaga[index];
  if (!next) return { state: { ...state, status: 'CONFIRMED', deadline: null }, outputs: [] };
  switch (next.kind) {
    case 'remote':
      return {
        state: { ...state, step: next.name, deadline: deadlineAfter(now, timeoutMs) },
        outputs: [{ kind: 'send', command: next.command }],
      };
    case 'local': {
      const after = advance({ ...state, step: next.name }, index + 1, now, timeoutMs);
      return { state: after.state, outputs: [{ kind: next.action }, ...after.outputs] };
    }
    default: {
      const _exhaustive: never = next;
      return _exhaustive;
    }
  }
}

/**
 * Undoes the saga: the compensations of the given steps in reverse order, then the cancellation.
 * `steps` are the completed steps, plus the current one when it timed out (it may have happened without us
 * hearing of it; its compensation is safe either way).
 */
function compensate(state: OrderSagaState, steps: string[], reason: CancellationReason): SagaDecision {
  const compensations = [...steps]
    .reverse()
    .map((name) => orderSaga.find((s) => s.name === name))
    .flatMap((s) =>
      s?.kind === 'remote' && s.compensation ? [{ kind: 'send' as const, command: s.compensation }] : [],
    );
  return {
    state: { ...state, status: 'CANCELLED', reason, deadline: null },
    outputs: [...compensations, { kind: 'cancel-order', reason }],
  };
}

/** The saga's decisions: given its state (none before it starts), an input and the time, what happens next. */
export function decide(
  state: OrderSagaState | undefined,
  input: SagaInput,
  now: Date,
  stepTimeoutMs: number,
): SagaDecision | undefined {
  if (input.type === 'order.placed') {
    if (state) return ignore(state);
    const { type: _type, ...order } = input;
    const initial: OrderSagaState = {
      ...order,
      step: orderSaga[0]!.name,
      status: 'RUNNING',
      reason: null,
      deadline: null,
      completed: [],
    };
    return advance(initial, 0, now, stepTimeoutMs);
  }
  if (!state) return undefined;
  if (state.status !== 'RUNNING') return ignore(state);
  const index = orderSaga.findIndex((s) => s.name === state.step);
  const current = orderSaga[index];
  if (current?.kind !== 'remote') return ignore(state);

  if (input.type === 'deadline-passed') {
    if (!state.deadline || new Date(state.deadline) > now) return ignore(state);
    return compensate(state, [...state.completed, current.name], 'timeout');
  }
  if (input.sagaId !== state.sagaId) return ignore(state);
  if (input.type === current.succeeded) {
    return advance({ ...state, completed: [...state.completed, current.name] }, index + 1, now, stepTimeoutMs);
  }
  if (input.type === current.failed) {
    return compensate(state, state.completed, current.failureReason);
  }
  return ignore(state);
}
