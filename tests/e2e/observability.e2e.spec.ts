import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { Channel } from 'amqplib';
import type { Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AmqpClient,
  Exchanges,
  KafkaClient,
  KafkaHeaders,
  Queues,
  SAGA_REPLY_KEY,
  Topics,
  readHeaders,
} from '@am/messaging';
import { parseTraceparent } from '@am/observability';
import { freePort, http, startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';

// Observability from the running services over the real brokers: one order placed with a known W3C trace id is
// followed through the headers of every message it causes (peeked on the brokers), through the spans the
// services export over OTLP/HTTP (to a receiver this test runs, so no collector is needed), and through the
// Prometheus metrics each service serves on /metrics.

/** A span as OTLP/HTTP JSON carries it (ids in hex), with the service that reported it. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OTLP span kind: 2 server, 4 producer, 5 consumer. */
  kind: number;
}
const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

/** A message seen on a broker: where it went, its type and correlation id, and its traceparent header. */
interface Hop {
  where: string;
  type: string;
  correlationId: string;
  traceparent: string | undefined;
}

const TRACE_ID = randomBytes(16).toString('hex');
const CALLER_SPAN_ID = randomBytes(8).toString('hex');

let services: Record<string, ServiceProcess>;
let collector: Server;
const spans: ReceivedSpan[] = [];
let admin: AmqpClient;
let peekChannel: Channel;
let kafka: KafkaClient;
let kafkaPeek: Consumer;
const hops: Hop[] = [];
const url = (service: string, path: string) => `${services[service]!.url}${path}`;

/** A minimal OTLP/HTTP JSON trace receiver. */
async function startCollector(): Promise<number> {
  const port = await freePort();
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      try {
        collect(JSON.parse(body.toString('utf8')) as OtlpRequest);
      } catch {
        // not JSON: not ours to judge here; the assertions below will miss the spans
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(port, '127.0.0.1', resolve));
  return port;
}

interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
    scopeSpans?: {
      spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number }[];
    }[];
  }[];
}

function collect(request: OtlpRequest): void {
  for (const rs of request.resourceSpans ?? []) {
    const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          service,
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined,
          name: s.name,
          kind: s.kind,
        });
      }
    }
  }
}

/** Binds a queue of the test's own to the saga exchanges, and reads order-events with a group of its own. */
async function startPeeking(): Promise<void> {
  const env = testEnv();
  admin = new AmqpClient({ url: env.adminAmqpUrl, connectionName: 'observability-e2e' });
  await admin.connect();
  peekChannel = await admin.createChannel();
  const { queue } = await peekChannel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
  await peekChannel.bindQueue(queue, Exchanges.sagaCommands, Queues.inventoryReserve);
  await peekChannel.bindQueue(queue, Exchanges.sagaCommands, Queues.paymentProcess);
  await peekChannel.bindQueue(queue, Exchanges.sagaReplies, SAGA_REPLY_KEY);
  await peekChannel.consume(
    queue,
    (m) => {
      if (!m) return;
      const traceparent: unknown = m.properties.headers?.traceparent;
      hops.push({
        where: `${m.fields.exchange}/${m.fields.routingKey}`,
        type: String(m.properties.type),
        correlationId: String(m.properties.correlationId),
        traceparent:
          Buffer.isBuffer(traceparent) || typeof traceparent === 'string' ? traceparent.toString() : undefined,
      });
    },
    { noAck: true },
  );

  kafka = new KafkaClient({
    brokers: [env.kafkaBrokers],
    clientId: 'observability-e2e',
    credentials: env.kafkaAdmin,
    prefix: env.kafkaPrefix,
  });
  kafkaPeek = kafka.consumer(`observability-e2e-${randomUUID()}`);
  await kafkaPeek.connect();
  await kafkaPeek.subscribe({ topic: kafka.name(Topics.orderEvents), fromBeginning: true });
  await kafkaPeek.run({
    eachMessage: async ({ message }) => {
      const headers = readHeaders(message.headers);
      hops.push({
        where: Topics.orderEvents,
        type: headers[KafkaHeaders.eventType] ?? '?',
        correlationId: headers[KafkaHeaders.correlationId] ?? '?',
        traceparent: headers[KafkaHeaders.traceparent],
      });
    },
  });
}

beforeAll(async () => {
  const port = await startCollector();
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` };
  [services] = await Promise.all([
    startServices(['orders', 'inventory', 'payments', 'audit'], {
      orders: otel,
      inventory: otel,
      payments: otel,
      audit: otel,
    }),
    startPeeking(),
  ]);
});

afterAll(async () => {
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
  await kafkaPeek?.disconnect().catch(() => undefined);
  await kafka?.close();
  await admin?.close();
  await new Promise((resolve) => collector?.close(resolve));
});

/** The value of the series of `name` whose labels include `labels`, summed; undefined when there is none. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total = (total ?? 0) + Number(match[3]);
  }
  return total;
}

async function scrape(service: string): Promise<string> {
  const response = await http<string>('GET', url(service, '/metrics'));
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return response.body;
}

async function customer(balance: number, stock: number) {
  const user = await http<{ userId: string }>('POST', url('orders', '/users'), {
    email: `${randomUUID()}@example.com`,
    name: 'Olly',
  });
  expect(user.status).toBe(201);
  const userId = user.body.userId;
  await waitFor('payments to open the account', async () => {
    return (await http('GET', url('payments', `/accounts/${userId}`))).status === 200;
  });
  expect(
    (await http('POST', url('payments', `/accounts/${userId}/deposits`), { amount: balance })).status,
  ).toBeLessThan(300);
  const sku = `SKU-${randomUUID().slice(0, 8)}`;
  expect((await http('PUT', url('inventory', `/stock/${sku}`), { quantity: stock })).status).toBe(200);
  return { userId, sku };
}

describe('observability of one order', () => {
  let orderId: string;
  const before: Record<string, string> = {};

  it('places an order with a known trace id, and it is CONFIRMED', async () => {
    const { userId, sku } = await customer(10_000, 5);
    before.orders = await scrape('orders');
    before.inventory = await scrape('inventory');
    before.payments = await scrape('payments');
    const correlationId = `e2e-${randomUUID()}`;
    const answer = await http<{ orderId: string }>(
      'POST',
      url('orders', '/orders'),
      { userId, items: [{ sku, quantity: 2, unitPrice: 1_500 }] },
      { traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`, 'x-correlation-id': correlationId },
    );
    expect(answer.status).toBe(202);
    expect(answer.headers.get('x-correlation-id')).toBe(correlationId);
    orderId = answer.body.orderId;
    await waitFor(
      `order ${orderId} to be confirmed`,
      async () =>
        (await http<{ status: string }>('GET', url('orders', `/orders/${orderId}`))).body.status === 'CONFIRMED',
      { timeoutMs: 30_000, intervalMs: 150 },
    );
  });

  it("carries the order's trace id in the traceparent header of every hop on both brokers", async () => {
    const expected = [
      `${Exchanges.sagaCommands}/${Queues.inventoryReserve} inventory.reserve`,
      `${Exchanges.sagaReplies}/${SAGA_REPLY_KEY} inventory.reserved`,
      `${Exchanges.sagaCommands}/${Queues.paymentProcess} payment.process`,
      `${Exchanges.sagaReplies}/${SAGA_REPLY_KEY} payment.completed`,
      `${Topics.orderEvents} order.created`,
      `${Topics.orderEvents} order.confirmed`,
    ];
    const ours = () => hops.filter((h) => h.correlationId === orderId);
    await waitFor('every hop of the order to be seen', async () => ours().length >= expected.length, {
      timeoutMs: 20_000,
    });
    expect(ours().map((h) => `${h.where} ${h.type}`)).toEqual(expect.arrayContaining(expected));
    for (const hop of ours()) {
      expect(parseTraceparent(hop.traceparent)?.traceId, `${hop.where} ${hop.type}: ${hop.traceparent}`).toBe(TRACE_ID);
    }
    // Each hop has a parent of its own (the producer span that sent it), not one header copied along.
    expect(new Set(ours().map((h) => parseTraceparent(h.traceparent)?.spanId)).size).toBe(ours().length);
  });

  it('is one trace across orders, inventory, payments and audit, continuing the caller’s span', async () => {
    const trace = () => spans.filter((s) => s.traceId === TRACE_ID);
    const has = (service: string, name: string, kind: number) =>
      trace().find((s) => s.service === service && s.name === name && s.kind === kind);
    const parentsExported = () => {
      const exported = new Set(trace().map((s) => s.spanId));
      return (
        trace().every((s) => s.kind !== CONSUMER || exported.has(s.parentSpanId ?? '')) &&
        hops
          .filter((h) => h.correlationId === orderId)
          .every((h) => exported.has(parseTraceparent(h.traceparent)?.spanId ?? ''))
      );
    };
    await waitFor(
      'the spans of the order to be exported',
      async () =>
        has('orders', 'POST /orders', SERVER) &&
        has('orders', `${Queues.orderProcessing} process`, CONSUMER) &&
        has('inventory', `${Queues.inventoryReserve} process`, CONSUMER) &&
        has('payments', `${Queues.paymentProcess} process`, CONSUMER) &&
        has('audit', `${Topics.orderEvents} process`, CONSUMER) &&
        trace().filter((s) => s.service === 'orders' && s.name === `${Queues.sagaReplies} process`).length >= 2 &&
        // Each service exports its spans on its own schedule: wait until every parent has arrived too.
        parentsExported(),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    // HTTP span → order.place (published by the HTTP handler, its traceparent the HTTP span) → the worker.
    const server = has('orders', 'POST /orders', SERVER)!;
    expect(server.parentSpanId).toBe(CALLER_SPAN_ID);
    expect(has('orders', `${Queues.orderProcessing} process`, CONSUMER)!.parentSpanId).toBe(server.spanId);
    // Every hop peeked on the brokers was sent by a producer span of this trace (the outbox relay's), and
    // every consumer span is the child of the span that sent its message.
    const ids = new Map(trace().map((s) => [s.spanId, s]));
    for (const hop of hops.filter((h) => h.correlationId === orderId)) {
      const producer = ids.get(parseTraceparent(hop.traceparent)!.spanId);
      expect(producer?.kind, `${hop.where} ${hop.type}`).toBe(PRODUCER);
    }
    for (const consumer of trace().filter((s) => s.kind === CONSUMER)) {
      expect(ids.get(consumer.parentSpanId ?? '')?.kind, `${consumer.service} ${consumer.name}`).toBeOneOf([
        SERVER,
        PRODUCER,
      ]);
    }
    expect(new Set(trace().map((s) => s.service))).toEqual(new Set(['orders', 'inventory', 'payments', 'audit']));
  });

  it('moves the counters of /metrics with the traffic, and reports queue depth, outbox lag and consumer lag', async () => {
    const after = {
      orders: await scrape('orders'),
      inventory: await scrape('inventory'),
      audit: await scrape('audit'),
    };
    const grew = (service: 'orders' | 'inventory', name: string, labels: Record<string, string>, by = 1) => {
      const was = sample(before[service]!, name, labels) ?? 0;
      const now = sample(after[service], name, labels) ?? 0;
      expect(now - was, `${service} ${name} ${JSON.stringify(labels)}`).toBeGreaterThanOrEqual(by);
    };
    grew('orders', 'messages_consumed_total', { source: Queues.orderProcessing });
    grew('orders', 'messages_consumed_total', { source: Queues.sagaReplies }, 2);
    grew('orders', 'message_processing_seconds_count', { source: Queues.orderProcessing });
    grew('orders', 'messages_published_total', { destination: Exchanges.sagaCommands }, 2);
    grew('orders', 'messages_published_total', { destination: Topics.orderEvents }, 2);
    grew('orders', 'saga_outcomes_total', { outcome: 'CONFIRMED', reason: 'none' });
    grew('inventory', 'messages_consumed_total', { source: Queues.inventoryReserve });
    grew('inventory', 'messages_published_total', { destination: Exchanges.sagaReplies });

    for (const queue of [Queues.orderProcessing, Queues.sagaReplies]) {
      expect(sample(after.orders, 'queue_depth_messages', { queue }), queue).toBeGreaterThanOrEqual(0);
      expect(sample(after.orders, 'queue_consumers', { queue }), queue).toBeGreaterThanOrEqual(1);
    }
    expect(sample(after.inventory, 'queue_depth_messages', { queue: Queues.inventoryReserve })).toBeGreaterThanOrEqual(
      0,
    );
    expect(sample(after.orders, 'outbox_unsent_messages')).toBeGreaterThanOrEqual(0);
    expect(sample(after.orders, 'outbox_lag_seconds')).toBeGreaterThanOrEqual(0);
    // The audit group has read order-events: one series per partition, and the lag settles to 0.
    expect(sample(after.audit, 'consumer_lag_messages', { topic: Topics.orderEvents, group: 'audit' })).toBeDefined();
    await waitFor('the audit group to catch up on order-events', async () => {
      const text = await scrape('audit');
      return sample(text, 'consumer_lag_messages', { topic: Topics.orderEvents, group: 'audit' }) === 0;
    });
  });
});
