import { Injectable, Optional } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  ProcessPayment,
  RefundPayment,
  ReleaseInventory,
  ReserveInventory,
  type Envelope,
  type EnvelopeOrigin,
} from '@am/contracts';
import { Exchanges, toExchange, type Destination } from '@am/messaging';
import { ServiceMetrics } from '@am/observability';
import {
  decide,
  type OrderSagaState,
  type SagaCommandType,
  type SagaInput,
  type SagaOutput,
} from './order-saga.saga.js';
import { settleOrder } from '../settle-order/settle-order.js';
import { loadSagaForUpdate, saveSaga } from './order-saga.repository.js';

/** A message the saga wants sent, for the caller to put in its transaction's outbox. */
export interface SagaMessage {
  destination: Destination;
  envelope: Envelope;
}

/** How long each step may wait for its reply (milliseconds). */
export const sagaStepTimeoutMs = () => Number(process.env.SAGA_STEP_TIMEOUT_MS ?? 30_000);

/**
 * Runs the pure saga decisions against the database: loads and locks the state, decides, saves the new state,
 * applies local effects (the order's status) and returns the messages to send. The caller owns the
 * transaction, so state, order and outbox commit together.
 *
 * Counts each saga's end in `saga_outcomes_total{outcome,reason}` when it decides it, inside the transaction:
 * a transaction that then rolls back (rare: the caller retries the message) counts the same end twice.
 */
@Injectable()
export class OrderSagaRunner {
  constructor(@Optional() private readonly metrics?: ServiceMetrics) {}

  async handle(
    manager: EntityManager,
    sagaId: string | undefined,
    input: SagaInput,
    origin: EnvelopeOrigin,
    now = new Date(),
  ): Promise<SagaMessage[]> {
    const state = sagaId ? await loadSagaForUpdate(manager, sagaId) : undefined;
    return this.apply(manager, state, input, origin, now);
  }

  async apply(
    manager: EntityManager,
    state: OrderSagaState | undefined,
    input: SagaInput,
    origin: EnvelopeOrigin,
    now = new Date(),
  ): Promise<SagaMessage[]> {
    const decision = decide(state, input, now, sagaStepTimeoutMs());
    if (!decision || decision.outputs.length === 0) return [];
    await saveSaga(manager, decision.state);
    const messages: SagaMessage[] = [];
    for (const output of decision.outputs) {
      messages.push(...(await this.effect(manager, decision.state, output, origin)));
    }
    return messages;
  }

  private async effect(
    manager: EntityManager,
    saga: OrderSagaState,
    output: SagaOutput,
    origin: EnvelopeOrigin,
  ): Promise<SagaMessage[]> {
    switch (output.kind) {
      case 'send':
        return [
          {
            destination: toExchange(Exchanges.sagaCommands, output.command),
            envelope: command(saga, output.command, origin),
          },
        ];
      case 'confirm-order':
      case 'cancel-order':
        this.metrics?.sagaOutcomesTotal.inc(
          output.kind === 'confirm-order'
            ? { outcome: 'CONFIRMED', reason: 'none' }
            : { outcome: 'CANCELLED', reason: output.reason },
        );
        return [await settleOrder(manager, saga, output, origin)];
      default: {
        const _exhaustive: never = output;
        return _exhaustive;
      }
    }
  }
}

/** Builds a saga command from the saga's state: every command is self-contained. */
function command(saga: OrderSagaState, type: SagaCommandType, origin: EnvelopeOrigin): Envelope {
  const { sagaId, orderId, userId, items, total } = saga;
  switch (type) {
    case 'inventory.reserve':
      return ReserveInventory.create({ sagaId, orderId, items }, origin);
    case 'inventory.release':
      return ReleaseInventory.create({ sagaId, orderId }, origin);
    case 'payment.process':
      return ProcessPayment.create({ sagaId, orderId, userId, amount: total }, origin);
    case 'payment.refund':
      return RefundPayment.create({ sagaId, orderId, userId }, origin);
    default: {
      const _exhaustive: never = type;
      return _exhaustive;
    }
  }
}
