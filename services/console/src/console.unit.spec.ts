import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  Exchanges,
  Queues,
  allQueueNames,
  exchanges,
  queryExchanges,
  queryQueues,
  queues,
  topics,
} from '@am/messaging';
import { BadRequestException } from '@nestjs/common';
import { activeFaults, byLabel, parsePrometheus, rates, single } from './collect/prometheus.js';
import { parseFaultBody, parseFaultId, parsePoisonBody, parseService, serviceFaults } from './faults-api.js';
import { faultMarks, faultOn, queueConsumer } from './page/fault-marks.js';
import { readCookie, sessionCookieAsBearer } from './session-cookie.js';
import type { FaultMark, ServicePoint, Tick } from './snapshot.js';
import { handledBy, topologyGraph } from './topology-graph.js';

describe('reading a service /metrics', () => {
  const text = [
    '# HELP messages_consumed_total Messages handled',
    '# TYPE messages_consumed_total counter',
    'messages_consumed_total{source="order-processing",service="orders"} 42',
    'messages_consumed_total{source="order-saga-replies",service="orders"} 7',
    'outbox_unsent_messages{service="orders"} 3',
    'odd_label{text="a \\"quoted\\" \\\\ value\\nline"} 1',
    'garbage line without a value',
    'not_a_number{a="b"} NaN',
  ].join('\n');

  it('parses samples and their labels, unescaping values and skipping what it cannot read', () => {
    const samples = parsePrometheus(text);
    expect(samples.map((s) => s.name)).toEqual([
      'messages_consumed_total',
      'messages_consumed_total',
      'outbox_unsent_messages',
      'odd_label',
    ]);
    expect(samples[3]!.labels.text).toBe('a "quoted" \\ value\nline');
    expect(byLabel(samples, 'messages_consumed_total', 'source')).toEqual({
      'order-processing': 42,
      'order-saga-replies': 7,
    });
    expect(single(samples, 'outbox_unsent_messages')).toBe(3);
    expect(single(samples, 'absent')).toBeUndefined();
  });

  it('turns two readings of counters into rates, counting a restarted counter from zero', () => {
    expect(rates({ a: 10, b: 50 }, { a: 30, b: 5, c: 9 }, 2)).toEqual({ a: 10, b: 2.5, c: 0 });
    expect(rates(undefined, { a: 30 }, 1)).toEqual({ a: 0 });
  });
});

describe('the topology graph', () => {
  const graph = topologyGraph();
  const ids = new Set(graph.nodes.map((n) => n.id));

  it('has every exchange, queue and topic of topology.ts, and every edge joins two of its nodes', () => {
    for (const e of exchanges) expect(ids).toContain(`exchange:${e.name}`);
    for (const q of queues) expect(ids).toContain(`queue:${q.name}`);
    for (const t of topics) expect(ids).toContain(`topic:${t.name}`);
    // Request/reply: the queries and replies exchanges, the responder's queue, and the requester's reply queues.
    for (const e of queryExchanges) expect(ids).toContain(`exchange:${e.name}`);
    for (const q of queryQueues) expect(ids).toContain(`queue:${q.name}`);
    expect(ids).toContain('queue:orders.replies.*');
    for (const edge of graph.edges) {
      expect(ids, edge.from).toContain(edge.from);
      expect(ids, edge.to).toContain(edge.to);
      expect(edge.pattern.length).toBeGreaterThan(0);
    }
  });

  it('says what a headers binding matches, and whose alternate exchange an exchange is', () => {
    const edge = graph.edges.find(
      (e) => e.from === `exchange:${Exchanges.mail}` && e.to === `queue:${Queues.mailPriority}`,
    );
    expect(edge?.pattern).toBe('headers x-match any: priority=high, kind=order-cancelled');
    expect(graph.nodes.find((n) => n.id === `exchange:${Exchanges.mailUnrouted}`)?.detail).toBe(
      'fanout, alternate of mail',
    );
  });

  it('draws each binding, each consumer and each consumer group once, with the figure that gives its rate', () => {
    const key = (from: string, to: string) => graph.edges.filter((e) => e.from === from && e.to === to);
    for (const q of queues) {
      for (const b of q.bindings) expect(key(`exchange:${b.exchange}`, `queue:${q.name}`)).toHaveLength(1);
      // (one edge per exchange, also for a queue bound to it with several keys)
      expect(key(`queue:${q.name}`, `sub:${q.consumer}`)[0]?.rate).toEqual({ kind: 'queue-out', queue: q.name });
      expect(allQueueNames()).toContain(q.name);
    }
    for (const t of topics)
      for (const g of t.groups)
        expect(key(`topic:${t.name}`, `sub:${g.consumer}`)[0]?.rate).toEqual({
          kind: 'consumed',
          service: g.consumer,
          source: t.name,
        });
  });
});

describe('the session cookie', () => {
  it('is read from a Cookie header among others', () => {
    expect(readCookie('a=1; console_token=abc.def; b=2', 'console_token')).toBe('abc.def');
    expect(readCookie('console_token=', 'console_token')).toBeUndefined();
    expect(readCookie(undefined, 'console_token')).toBeUndefined();
  });

  const run = (method: string, headers: Record<string, string>, url = '/api/stream') => {
    const request = { method, url, headers } as unknown as IncomingMessage;
    sessionCookieAsBearer()(request, {} as ServerResponse, () => undefined);
    return request.headers.authorization;
  };

  it('stands for the bearer header on reads, and never over a header that is there', () => {
    expect(run('GET', { cookie: 'console_token=t1' })).toBe('Bearer t1');
    expect(run('POST', { cookie: 'console_token=t1' }, '/session')).toBeUndefined();
    expect(run('GET', { cookie: 'console_token=t1', authorization: 'Bearer t2' })).toBe('Bearer t2');
  });

  it("stands for it on writes only for the page's own calls to /api/ (x-control-room: 1, which another site cannot send)", () => {
    const cookie = 'console_token=t1';
    expect(run('POST', { cookie }, '/api/faults')).toBeUndefined();
    expect(run('DELETE', { cookie }, '/api/faults/payments/x')).toBeUndefined();
    expect(run('POST', { cookie, 'x-control-room': '1' }, '/api/faults')).toBe('Bearer t1');
    expect(run('DELETE', { cookie, 'x-control-room': '1' }, '/api/faults/payments/x')).toBe('Bearer t1');
    expect(run('POST', { cookie, 'x-control-room': '1' }, '/session')).toBeUndefined();
    expect(run('PUT', { cookie, 'x-control-room': '1' }, '/api/faults')).toBeUndefined();
  });
});

describe('who handles each hop of a story', () => {
  it('sends a saga command to its worker, a reply to the orchestrator, an event to every group and fanout queue', () => {
    expect(handledBy(Queues.auditSaga, 'inventory.reserve')).toEqual(['inventory']);
    expect(handledBy(Queues.auditSaga, 'payment.refund')).toEqual(['payments']);
    expect(handledBy(Queues.auditSaga, 'payment.failed')).toEqual(['orders']);
    expect(handledBy('order-events/audit', 'order.cancelled').sort()).toEqual(['analytics', 'audit', 'email']);
    expect(handledBy(Queues.auditLog, 'user.registered').sort()).toEqual(['analytics', 'audit', 'email', 'payments']);
  });

  it('sends an event of the choreographed flow to every service that reacts to it: a flow, not a board entry', () => {
    expect(handledBy(Queues.auditOrderFlow, 'order.placed')).toEqual(['inventory']);
    expect(handledBy(Queues.auditOrderFlow, 'inventory.reserved')).toEqual(['payments']);
    expect(handledBy(Queues.auditOrderFlow, 'payment.failed').sort()).toEqual(['inventory', 'orders']);
    expect(handledBy(Queues.auditOrderFlow, 'order.timed-out').sort()).toEqual(['inventory', 'payments']);
  });
});

describe('the fault buttons', () => {
  it("reads the fault switches on from a service's faults_active gauge, one mark per switch", () => {
    const samples = parsePrometheus(
      [
        '# TYPE faults_active gauge',
        'faults_active{kind="slow-consumer",source="payment.process",by="alice",service="payments"} 1',
        'faults_active{kind="pause-relay",source="",by="bob",service="payments"} 2',
        'faults_active{kind="at-most-once",source="inventory.reserve",by="alice",service="payments"} 0',
      ].join('\n'),
    );
    expect(activeFaults(samples)).toEqual([
      { kind: 'slow-consumer', source: 'payment.process', by: 'alice' },
      { kind: 'pause-relay', source: '', by: 'bob' },
      { kind: 'pause-relay', source: '', by: 'bob' },
    ]);
    expect(activeFaults(parsePrometheus('messages_consumed_total{source="a"} 1'))).toEqual([]);
  });

  it('checks what it forwards: one of the six services, a fault the services accept, a UUID; else 400', () => {
    expect(parseFaultBody({ service: 'payments', kind: 'pause-relay' })).toEqual({
      service: 'payments',
      request: { kind: 'pause-relay', durationS: 120 },
    });
    expect(
      parseFaultBody({ service: 'inventory', kind: 'slow-consumer', source: Queues.inventoryReserve, delayMs: 500 })
        .request,
    ).toEqual({ kind: 'slow-consumer', source: Queues.inventoryReserve, delayMs: 500, durationS: 120 });
    const refused = (f: () => unknown) => expect(f).toThrow(BadRequestException);
    refused(() => parseFaultBody({ service: 'console', kind: 'pause-relay' }));
    refused(() => parseFaultBody({ service: 'payments' }));
    refused(() => parseFaultBody({ service: 'payments', kind: 'pause-relay', durationS: 601 }));
    refused(() => parseFaultBody({ service: 'payments', kind: 'fail-consumer', source: 'x', fraction: 2 }));
    refused(() => parseFaultBody({ service: 'payments', kind: 'pause-relay', extra: 1 }));
    refused(() => parseFaultBody([]));
    refused(() => parseFaultBody(null));
    refused(() => parseService('../orders'));
    refused(() => parseService(undefined));
    expect(parseService('audit')).toBe('audit');
    refused(() => parseFaultId('1; drop'));
    expect(parseFaultId('0b8f7c1e-2f7a-4c55-9d3e-0a1b2c3d4e5f')).toBe('0b8f7c1e-2f7a-4c55-9d3e-0a1b2c3d4e5f');
    // stop-consumers: on one source, or (none) on all of the service's consumers.
    expect(parseFaultBody({ service: 'orders', kind: 'stop-consumers', durationS: 30 }).request).toEqual({
      kind: 'stop-consumers',
      durationS: 30,
    });
    refused(() => parseFaultBody({ service: 'orders', kind: 'stop-consumers', source: '' }));
  });

  it('checks a poison message before it forwards it: a service, a destination, one of three variants; else 400', () => {
    expect(
      parsePoisonBody({ service: 'orders', destination: 'saga-commands/payment.process', variant: 'unknown-type' }),
    ).toEqual({
      service: 'orders',
      request: { destination: 'saga-commands/payment.process', variant: 'unknown-type' },
    });
    const refused = (f: () => unknown) => expect(f).toThrow(BadRequestException);
    refused(() => parsePoisonBody({ service: 'orders', destination: 'user-events', variant: 'nasty' }));
    refused(() => parsePoisonBody({ service: 'orders', variant: 'unparseable' }));
    refused(() => parsePoisonBody({ service: 'console', destination: 'user-events', variant: 'unparseable' }));
    refused(() => parsePoisonBody({ service: 'orders', destination: 'user-events', variant: 'unparseable', x: 1 }));
    refused(() => parsePoisonBody('poison'));
  });

  it("shows a service's GET /faults, and marks one that did not answer or refused", () => {
    expect(
      serviceFaults('payments', { status: 200, body: { allowed: true, sources: ['payment.process'], faults: [] } }),
    ).toEqual({
      service: 'payments',
      answered: true,
      allowed: true,
      sources: ['payment.process'],
      stoppable: [],
      poisonDestinations: [],
      faults: [],
    });
    const destination = { destination: 'saga-replies/order-saga', broker: 'rabbitmq', messageType: 'x', reaches: [] };
    expect(
      serviceFaults('payments', {
        status: 200,
        body: { allowed: true, stoppable: ['payment.process', 7], poisonDestinations: [destination], faults: [] },
      }),
    ).toMatchObject({ stoppable: ['payment.process'], poisonDestinations: [destination] });
    expect(serviceFaults('orders', { error: 'ECONNREFUSED' })).toMatchObject({
      answered: false,
      allowed: false,
      error: 'ECONNREFUSED',
    });
    expect(serviceFaults('orders', { status: 401, body: { reason: 'expired' } })).toMatchObject({
      answered: false,
      error: 'answered 401: expired',
    });
  });

  it('marks on the charts where faults went on and off, and not where a service only stopped answering', () => {
    const point = (service: string, faults: FaultMark[], up = true) =>
      ({ service, up, faults: up ? faults : [] }) as unknown as ServicePoint;
    const slow = { kind: 'slow-consumer', source: 'payment.process', by: 'alice' };
    const relay = { kind: 'pause-relay', source: '', by: 'alice' };
    const tick = (payments: FaultMark[], up = true, orders: FaultMark[] = []) =>
      ({ services: [point('payments', payments, up), point('orders', orders)] }) as unknown as Tick;
    const history = [
      tick([]),
      tick([slow]), // 1: slow on
      tick([slow, relay]), // 2: relay on
      tick([], false), // 3: payments not answering: nothing known
      tick([slow, relay]), // 4: still both
      tick([relay], true, [relay]), // 5: slow off; orders' relay on
      tick([]), // 6: payments' relay off, orders' relay off
    ];
    const all = faultMarks(history, () => true).map((m) => `${m.index} ${m.on ? 'on' : 'off'} ${m.label}`);
    expect(all).toEqual([
      '1 on slow-consumer on payment.process in payments by alice',
      '2 on pause-relay in payments by alice',
      '5 off slow-consumer on payment.process in payments by alice',
      '5 on pause-relay in orders by alice',
      '6 off pause-relay in payments by alice',
      '6 off pause-relay in orders by alice',
    ]);
    const queue = faultMarks(history, (_s, f) => f.source === 'payment.process');
    expect(queue.map((m) => [m.index, m.on])).toEqual([
      [1, true],
      [5, false],
    ]);
  });

  it("marks a stop-consumers fault on the charts of the consumers it stops: its source, or all of its service's", () => {
    const graph = topologyGraph();
    expect(queueConsumer(graph, 'payment.process')).toBe('payments');
    expect(queueConsumer(graph, 'payment.process-dlq')).toBe('audit');
    const all = { kind: 'stop-consumers', source: '', by: 'alice' };
    const one = { kind: 'stop-consumers', source: 'payment.refund', by: 'alice' };
    expect(faultOn('payments', all, 'payment.process', 'payments')).toBe(true);
    expect(faultOn('orders', all, 'payment.process', 'payments')).toBe(false);
    expect(faultOn('payments', one, 'payment.process', 'payments')).toBe(false);
    expect(faultOn('payments', one, 'payment.refund', 'payments')).toBe(true);
    // A relay's pause names no source and stops no consumer.
    expect(faultOn('payments', { kind: 'pause-relay', source: '', by: 'a' }, 'payment.process', 'payments')).toBe(
      false,
    );
  });
});
