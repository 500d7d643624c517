import { Exchanges, ORDER_FLOW_REACTIONS, queues } from '@am/messaging';
import { decideOrderFlow, type FlowOrder } from './order-flow.decide.js';

/** The stories the choreography page draws, the same three as the saga's. */
export type FlowScenario = 'confirmed' | 'payment-failed' | 'timeout';

/**
 * What a participant does when an event reaches its queue on the flow: the words of the diagram. Every reaction of
 * `ORDER_FLOW_REACTIONS` but orders' (whose decisions are drawn by running `decideOrderFlow`) must have one; a unit
 * test holds the two together.
 */
export const REACTION_EFFECTS: Record<string, Record<string, string>> = {
  'inventory-order-flow': {
    'order.placed': 'reserve the items (reserveStock)',
    'payment.failed': 'release the reservation (releaseStock)',
    'order.timed-out': 'release, or leave a tombstone (releaseStock)',
  },
  'payments-order-flow': {
    'inventory.reserved': 'withdraw the total (processPayment)',
    'order.timed-out': 'refund, or void (refundPayment)',
  },
};

/** What the participant announces after its reaction, in each scenario (as the saga diagrams choose each reply). */
const ANNOUNCED: Record<FlowScenario, Record<string, string>> = {
  confirmed: { 'order.placed': 'inventory.reserved', 'inventory.reserved': 'payment.completed' },
  'payment-failed': { 'order.placed': 'inventory.reserved', 'inventory.reserved': 'payment.failed' },
  timeout: { 'order.placed': 'inventory.reserved' },
};

/**
 * One choreographed order as a Mermaid sequence diagram. Who gets each event is the topology's (`ORDER_FLOW_REACTIONS`:
 * one arrow per bound queue, in the order the bindings are declared); what orders decides is `decideOrderFlow` run on
 * each event; what the participants announce is the scenario's choice. Nobody sends anybody a command: every arrow is
 * an event on `order-flow`.
 */
export function orderFlowSequenceMermaid(scenario: FlowScenario): string {
  const now = new Date('2030-01-01T00:00:00Z');
  const later = new Date(now.getTime() + 120_000);
  const order: FlowOrder = { status: 'PENDING', deadline: new Date(now.getTime() + 60_000).toISOString() };
  const lines = [
    'sequenceDiagram',
    '  actor client',
    '  participant orders',
    '  participant inventory',
    '  participant payments',
    '  client->>orders: POST /orders {flow: choreographed} (202), then order-processing',
    '  Note over orders: order PENDING with its deadline, order.placed (outbox)',
  ];
  const pending: { type: string; from: string }[] = [{ type: 'order.placed', from: 'orders' }];
  const publish = (type: string, from: string) => pending.push({ type, from });
  const decideAndDraw = (input: Parameters<typeof decideOrderFlow>[1], at: Date) => {
    const decision = decideOrderFlow(order, input, at);
    if (!decision) return;
    order.status = decision.kind === 'confirm-order' ? 'CONFIRMED' : 'CANCELLED';
    lines.push(
      decision.kind === 'confirm-order'
        ? '  Note over orders: order CONFIRMED, order.confirmed to order-events (outbox)'
        : `  Note over orders: order CANCELLED (${decision.reason}), order.cancelled to order-events (outbox)`,
    );
    if (decision.announceTimeout) publish('order.timed-out', 'orders');
  };
  const drain = () => {
    while (pending.length > 0) {
      const { type, from } = pending.shift()!;
      for (const [queue, types] of Object.entries(ORDER_FLOW_REACTIONS)) {
        if (!(types as readonly string[]).includes(type)) continue;
        const consumer = queues.find((q) => q.name === queue)!.consumer;
        lines.push(`  ${from}->>${consumer}: ${type} (${Exchanges.orderFlow} → ${queue})`);
        if (consumer === 'orders') {
          decideAndDraw({ type: type as 'payment.completed' }, now);
          continue;
        }
        lines.push(`  Note over ${consumer}: ${REACTION_EFFECTS[queue]?.[type] ?? '?'}`);
        const announced = ANNOUNCED[scenario][type];
        if (announced) publish(announced, consumer);
      }
    }
  };
  drain();
  if (order.status === 'PENDING') {
    lines.push("  Note over orders,payments: no outcome before the order's deadline (ORDER_FLOW_TIMEOUT_MS)");
    decideAndDraw({ type: 'deadline-passed' }, later);
    drain();
  }
  return lines.join('\n');
}
