import { describe, expect, it } from 'vitest';
import { ORDER_FLOW_REACTIONS, Queues } from '@am/messaging';
import { REACTION_EFFECTS, orderFlowSequenceMermaid } from './order-flow.diagram.js';

describe('the choreographed flow diagrams', () => {
  it("name an effect for every participant's reaction of the topology, and no other", () => {
    const { [Queues.ordersOrderFlow]: _orders, ...participants } = ORDER_FLOW_REACTIONS;
    expect(Object.keys(REACTION_EFFECTS).sort()).toEqual(Object.keys(participants).sort());
    for (const [queue, types] of Object.entries(participants)) {
      expect(Object.keys(REACTION_EFFECTS[queue]!).sort(), queue).toEqual([...types].sort());
    }
  });

  it('show the release on payment.failed going from payments straight to inventory, with no orchestrator', () => {
    const failed = orderFlowSequenceMermaid('payment-failed');
    expect(failed).toContain('payments->>inventory: payment.failed (order-flow → inventory-order-flow)');
    expect(failed).toContain('payments->>orders: payment.failed (order-flow → orders-order-flow)');
    expect(failed).toContain('order CANCELLED (payment_failed)');
    expect(failed).not.toContain('saga-commands');
  });

  it('end a timed-out order by orders announcing order.timed-out to both participants', () => {
    const timeout = orderFlowSequenceMermaid('timeout');
    expect(timeout).toContain('order CANCELLED (timeout)');
    expect(timeout).toContain('orders->>inventory: order.timed-out');
    expect(timeout).toContain('orders->>payments: order.timed-out');
  });
});
