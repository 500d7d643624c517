import { describe, expect, it } from 'vitest';
import { Exchanges, Queues, SAGA_COMMAND_QUEUES, SAGA_REPLY_KEY, allowedSenders, queues } from './topology.js';

// The wire-tap `audit-saga` (a copy of every saga command and reply for the audit trail) and the validated sender
// rule on it; the broker side of both is proven by the provisioning and audit end-to-end tests.
describe('the saga wire-tap audit-saga', () => {
  const tap = queues.find((q) => q.name === Queues.auditSaga)!;

  it('is bound with every command queue’s key and the orchestrator’s reply key, and consumed by audit', () => {
    expect(tap.consumer).toBe('audit');
    for (const command of SAGA_COMMAND_QUEUES) {
      const worker = queues.find((q) => q.name === command)!;
      expect(worker.bindings, command).toContainEqual({ exchange: Exchanges.sagaCommands, routingKey: command });
    }
    expect(tap.bindings).toEqual([
      ...SAGA_COMMAND_QUEUES.map((routingKey) => ({ exchange: Exchanges.sagaCommands, routingKey })),
      { exchange: Exchanges.sagaReplies, routingKey: SAGA_REPLY_KEY },
    ]);
  });

  it('takes a command only from orders and a reply only from the service its type names', () => {
    const others = ['audit', 'messaging-admin'];
    expect(allowedSenders(Queues.auditSaga, 'payment.process')).toEqual(['orders', ...others]);
    expect(allowedSenders(Queues.auditSaga, 'inventory.release')).toEqual(['orders', ...others]);
    expect(allowedSenders(Queues.auditSaga, 'inventory.reserved')).toEqual(['inventory', ...others]);
    expect(allowedSenders(Queues.auditSaga, 'payment.completed')).toEqual(['payments', ...others]);
    // The orchestrator's own reply queue keeps its rule: a reply from the service its type names.
    expect(allowedSenders(Queues.sagaReplies, 'payment.completed')).toEqual(['payments', 'orders', ...others]);
  });
});
