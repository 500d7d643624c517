import { Writable } from 'node:stream';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { currentLogContext, withLogContext } from './log-context.js';
import { requestCorrelationId } from './http.js';
import { ServiceMetrics } from './metrics.js';
import {
  SpanKind,
  TRACEPARENT,
  extractTraceContext,
  initTracing,
  parseTraceparent,
  startProducerSpan,
  traceHeaders,
  withConsumerSpan,
  withSpan,
} from './tracing.js';

const exporter = new InMemorySpanExporter();
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';
const incoming = `00-${TRACE_ID}-${PARENT_SPAN}-01`;

beforeAll(() => {
  // Each test file runs in its own process (pool: forks), so this is the process's tracing.
  initTracing({ service: 'unit', env: {}, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
});
beforeEach(() => exporter.reset());

describe('parseTraceparent', () => {
  it('reads a W3C traceparent', () => {
    expect(parseTraceparent(incoming)).toEqual({
      version: '00',
      traceId: TRACE_ID,
      spanId: PARENT_SPAN,
      sampled: true,
    });
    expect(parseTraceparent(`00-${TRACE_ID}-${PARENT_SPAN}-00`)?.sampled).toBe(false);
  });

  it('refuses what is not one: malformed, all-zero ids, version ff, missing', () => {
    for (const bad of [
      undefined,
      '',
      'garbage',
      `00-${TRACE_ID}-${PARENT_SPAN}`,
      `00-${'0'.repeat(32)}-${PARENT_SPAN}-01`,
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
      `ff-${TRACE_ID}-${PARENT_SPAN}-01`,
      `00-${TRACE_ID.toUpperCase()}-${PARENT_SPAN}-01`,
    ]) {
      expect(parseTraceparent(bad), String(bad)).toBeUndefined();
    }
  });
});

describe('trace headers', () => {
  it('injects nothing outside a span, and the active span inside one', async () => {
    expect(traceHeaders()).toEqual({});
    await withSpan('work', {}, async (span) => {
      const header = parseTraceparent(traceHeaders()[TRACEPARENT]);
      expect(header?.traceId).toBe(span.spanContext().traceId);
      expect(header?.spanId).toBe(span.spanContext().spanId);
    });
  });

  it('extracts a context from string, Buffer and array header values', () => {
    for (const value of [incoming, Buffer.from(incoming), [incoming]]) {
      const headers = traceHeaders(extractTraceContext({ traceparent: value }));
      expect(parseTraceparent(headers[TRACEPARENT])).toMatchObject({ traceId: TRACE_ID, spanId: PARENT_SPAN });
    }
    expect(traceHeaders(extractTraceContext({ traceparent: 'nonsense' }))).toEqual({});
    expect(traceHeaders(extractTraceContext(undefined))).toEqual({});
  });

  it('runs a consumer span as the child of the message headers, active across awaits', async () => {
    const sent = await withConsumerSpan('q process', { traceparent: Buffer.from(incoming) }, { a: 1 }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return traceHeaders();
    });
    const [span] = exporter.getFinishedSpans();
    expect(span?.kind).toBe(SpanKind.CONSUMER);
    expect(span?.spanContext().traceId).toBe(TRACE_ID);
    expect(span?.parentSpanContext?.spanId).toBe(PARENT_SPAN);
    // What the handler sends continues the same trace, with the consumer span as parent.
    expect(parseTraceparent(sent[TRACEPARENT])).toMatchObject({
      traceId: TRACE_ID,
      spanId: span?.spanContext().spanId,
    });
  });

  it('starts a new trace for a message without trace context, and marks a failed span', async () => {
    await expect(
      withConsumerSpan('q process', {}, {}, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const [span] = exporter.getFinishedSpans();
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.status.code).toBe(2);
    expect(span?.spanContext().traceId).not.toBe(TRACE_ID);
  });

  it('gives an outbox row a producer span under the transaction that wrote it', () => {
    const none = startProducerSpan('x publish', { other: 'kept' });
    expect(none.headers).toEqual({ other: 'kept' });
    none.end();
    expect(exporter.getFinishedSpans()).toHaveLength(0);

    const producer = startProducerSpan('x publish', { [TRACEPARENT]: incoming, other: 'kept' });
    producer.end();
    const [span] = exporter.getFinishedSpans();
    expect(span?.kind).toBe(SpanKind.PRODUCER);
    expect(span?.parentSpanContext?.spanId).toBe(PARENT_SPAN);
    expect(producer.headers.other).toBe('kept');
    expect(parseTraceparent(producer.headers[TRACEPARENT])).toMatchObject({
      traceId: TRACE_ID,
      spanId: span?.spanContext().spanId,
    });
  });
});

describe('logs', () => {
  it('nests log contexts, keeping outer fields the inner one does not set', async () => {
    expect(currentLogContext()).toBeUndefined();
    await withLogContext({ correlationId: 'c-1', messageId: 'm-1' }, async () => {
      await Promise.resolve();
      await withLogContext({ messageId: 'm-2', messageType: undefined }, async () => {
        expect(currentLogContext()).toEqual({ correlationId: 'c-1', messageId: 'm-2' });
      });
      expect(currentLogContext()).toEqual({ correlationId: 'c-1', messageId: 'm-1' });
    });
  });

  it('writes the correlation id, message id and trace id on every line written while handling a message', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const logger = createLogger('unit', 'info', sink);
    logger.info('outside');
    await withConsumerSpan('q process', { traceparent: incoming }, {}, () =>
      withLogContext({ correlationId: 'order-1', messageId: 'msg-1', source: 'q' }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        logger.warn({ extra: true }, 'inside');
      }),
    );
    expect(lines[0]).not.toHaveProperty('correlationId');
    expect(lines[0]).not.toHaveProperty('traceId');
    expect(lines[1]).toMatchObject({
      service: 'unit',
      msg: 'inside',
      extra: true,
      correlationId: 'order-1',
      messageId: 'msg-1',
      source: 'q',
      traceId: TRACE_ID,
    });
  });

  it('takes a sane x-correlation-id from a request, or makes one', () => {
    expect(requestCorrelationId('abc-123')).toBe('abc-123');
    expect(requestCorrelationId(['first', 'second'])).toBe('first');
    expect(requestCorrelationId(undefined)).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestCorrelationId('bad value\nwith newline')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('ServiceMetrics', () => {
  it('reports outbox lag, queue depth, consumer lag and saga outcomes at scrape time', async () => {
    const metrics = new ServiceMetrics('unit');
    let reads = 0;
    metrics.trackOutboxBacklog(async () => {
      reads++;
      return { unsent: 3, oldestSeconds: 1.5 };
    });
    metrics.trackQueueDepth(async () => [{ queue: 'order-processing', messages: 7, consumers: 1 }]);
    metrics.trackConsumerLag(async () => [{ topic: 'order-events', group: 'audit', partition: 2, lag: 4 }]);
    metrics.sagaOutcomesTotal.inc({ outcome: 'CANCELLED', reason: 'out_of_stock' });
    const text = await metrics.registry.metrics();
    expect(text).toContain('outbox_unsent_messages{service="unit"} 3');
    expect(text).toContain('outbox_lag_seconds{service="unit"} 1.5');
    expect(reads).toBe(1);
    expect(text).toContain('queue_depth_messages{queue="order-processing",service="unit"} 7');
    expect(text).toContain('queue_consumers{queue="order-processing",service="unit"} 1');
    expect(text).toContain('consumer_lag_messages{topic="order-events",group="audit",partition="2",service="unit"} 4');
    expect(text).toContain('saga_outcomes_total{outcome="CANCELLED",reason="out_of_stock",service="unit"} 1');
  });

  it('reports the round trips counted so far as a counter that only grows', async () => {
    const metrics = new ServiceMetrics('unit');
    let count = 40;
    metrics.trackDatabaseRoundTrips(() => count);
    expect(await metrics.registry.metrics()).toContain('db_round_trips_total{service="unit"} 40');
    count = 52;
    expect(await metrics.registry.metrics()).toContain('db_round_trips_total{service="unit"} 52');
  });

  it('still answers a scrape when a broker cannot be read', async () => {
    const metrics = new ServiceMetrics('unit');
    metrics.trackQueueDepth(() => Promise.reject(new Error('not connected')));
    metrics.trackConsumerLag(() => Promise.reject(new Error('not connected')));
    const text = await metrics.registry.metrics();
    expect(text).toContain('# TYPE queue_depth_messages gauge');
    expect(text).toContain('# TYPE consumer_lag_messages gauge');
    expect(text).not.toMatch(/^queue_depth_messages\{/m);
  });
});
