import { describe, expect, it } from 'vitest';
import {
  Exchanges,
  Queues,
  SAGA_COMMAND_QUEUES,
  SAGA_REPLY_KEY,
  ORDER_FLOW_REACTIONS,
  allowedSenders,
  bindingArguments,
  exchangeArguments,
  exchanges,
  queryRoles,
  queues,
  replyQueueName,
  replyQueuePattern,
} from './topology.js';

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

// Choreography: who reacts to what on `order-flow`, and who may announce each event.
describe('the choreographed order flow', () => {
  it('binds each reacting service to exactly the event types it reacts to, and audit to all of them', () => {
    for (const [queue, types] of Object.entries(ORDER_FLOW_REACTIONS)) {
      const spec = queues.find((q) => q.name === queue)!;
      expect(spec.bindings).toEqual(types.map((routingKey) => ({ exchange: Exchanges.orderFlow, routingKey })));
    }
    expect(queues.find((q) => q.name === Queues.auditOrderFlow)!.bindings).toEqual([
      { exchange: Exchanges.orderFlow, routingKey: '#' },
    ]);
  });

  it('takes each event only from the service its type names (and the consumer, audit, the admin)', () => {
    const others = ['audit', 'messaging-admin'];
    expect(allowedSenders(Queues.inventoryOrderFlow, 'order.placed')).toEqual(['orders', 'inventory', ...others]);
    expect(allowedSenders(Queues.inventoryOrderFlow, 'payment.failed')).toEqual(['payments', 'inventory', ...others]);
    expect(allowedSenders(Queues.paymentsOrderFlow, 'inventory.reserved')).toEqual([
      'inventory',
      'payments',
      ...others,
    ]);
    // Inventory cannot confirm an order by announcing a payment, nor payments release stock by announcing a timeout.
    expect(allowedSenders(Queues.ordersOrderFlow, 'payment.completed')).not.toContain('inventory');
    expect(allowedSenders(Queues.inventoryOrderFlow, 'order.timed-out')).not.toContain('payments');
  });
});

// Request/reply: the names a process gives its reply queue, and the pattern the permissions hold it to.
describe('request/reply reply queues', () => {
  it("match their own service's pattern and no other's", () => {
    const name = replyQueueName('orders', '0b7c1d9e-0000-4000-8000-00000000abcd');
    expect(name).toBe('orders.replies.0b7c1d9e-0000-4000-8000-00000000abcd');
    expect(new RegExp(replyQueuePattern('orders')).test(name)).toBe(true);
    expect(new RegExp(replyQueuePattern('inventory')).test(name)).toBe(false);
    for (const other of ['orders.replies.', 'orders.replies.x', `${name}.x`, `x${name}`, 'ordersXrepliesX0']) {
      expect(new RegExp(replyQueuePattern('orders')).test(other), other).toBe(false);
    }
  });

  it('name inventory-queries as answered by inventory and asked by orders only', () => {
    expect(queryRoles(Queues.inventoryQueries)).toEqual({ responder: 'inventory', requesters: ['orders'] });
    expect(queryRoles(Queues.orderProcessing)).toBeUndefined();
  });
});

// The `mail` headers exchange: the broker side (which lane a job lands in) is proven by
// services/email/src/mail-lanes/mail-routing.int.spec.ts.
describe('the mail headers exchange', () => {
  const toHeaders = queues.flatMap((q) => q.bindings.map((b) => ({ queue: q.name, binding: b })));
  const typeOf = (exchange: string) => exchanges.find((e) => e.name === exchange)?.type;

  it('binds with header matches exactly where the exchange routes by headers', () => {
    for (const { queue, binding } of toHeaders) {
      expect(binding.headers !== undefined, `${binding.exchange} → ${queue}`).toBe(
        typeOf(binding.exchange) === 'headers',
      );
    }
    expect(toHeaders.filter((b) => b.binding.headers).map((b) => b.queue)).toEqual([
      Queues.mailPriority,
      Queues.mailBulk,
    ]);
  });

  it('gives the broker x-match and the header values as binding arguments, and the alternate as an exchange argument', () => {
    const priority = queues.find((q) => q.name === Queues.mailPriority)!.bindings[0]!;
    expect(bindingArguments(priority)).toEqual({ 'x-match': 'any', priority: 'high', kind: 'order-cancelled' });
    expect(bindingArguments({})).toEqual({});
    const mail = exchanges.find((e) => e.name === Exchanges.mail)!;
    expect(exchangeArguments(mail)).toEqual({ 'alternate-exchange': Exchanges.mailUnrouted });
  });

  it('sends what no binding matches to an internal exchange that only the bulk lane is bound to', () => {
    const unrouted = exchanges.find((e) => e.name === Exchanges.mailUnrouted)!;
    expect(unrouted).toMatchObject({ type: 'fanout', publishers: [], internal: true });
    expect(toHeaders.filter((b) => b.binding.exchange === Exchanges.mailUnrouted).map((b) => b.queue)).toEqual([
      Queues.mailBulk,
    ]);
  });

  it('lets only email send to the lanes, besides its own retries, audit replays and the operators', () => {
    expect(allowedSenders(Queues.mailPriority, 'mail.send')).toEqual(['email', 'audit', 'messaging-admin']);
    expect(allowedSenders(Queues.mailBulk, 'mail.send')).toEqual(['email', 'audit', 'messaging-admin']);
  });
});
