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
import { byLabel, parsePrometheus, rates, single } from './collect/prometheus.js';
import { readCookie, sessionCookieAsBearer } from './session-cookie.js';
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

  it('stands for the bearer header on reads only, and never over a header that is there', () => {
    const run = (method: string, headers: Record<string, string>) => {
      const request = { method, headers } as unknown as IncomingMessage;
      sessionCookieAsBearer()(request, {} as ServerResponse, () => undefined);
      return request.headers.authorization;
    };
    expect(run('GET', { cookie: 'console_token=t1' })).toBe('Bearer t1');
    expect(run('POST', { cookie: 'console_token=t1' })).toBeUndefined();
    expect(run('DELETE', { cookie: 'console_token=t1' })).toBeUndefined();
    expect(run('GET', { cookie: 'console_token=t1', authorization: 'Bearer t2' })).toBe('Bearer t2');
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
});
