import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';

/**
 * The environment variables tracing reads (the standard OpenTelemetry names). Traces are exported over OTLP/HTTP
 * only when an endpoint is set (compose points it at Jaeger); propagation through message headers works always.
 */
export const TRACING_ENV = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME', 'OTEL_TRACES_EXPORTER'] as const;

/** The W3C trace context header, on RabbitMQ messages, Kafka records and outbox rows alike (DESIGN.md). */
export const TRACEPARENT = 'traceparent';

const TRACER_NAME = '@am/observability';

export interface TracingOptions {
  /** `service.name` of the spans, unless OTEL_SERVICE_NAME says otherwise. */
  service: string;
  env?: NodeJS.ProcessEnv;
  /** More span processors (tests use an in-memory exporter). */
  spanProcessors?: SpanProcessor[];
}

export interface Tracing {
  service: string;
  /** True when spans leave the process (an OTLP endpoint is configured). */
  exporting: boolean;
  /** Sends the spans still buffered. */
  flush(): Promise<void>;
}

let installed: (Tracing & { provider: TracerProvider }) | undefined;

/**
 * Installs tracing for this process, once: an AsyncLocalStorage context manager (the active span follows
 * async calls), the W3C trace-context and baggage propagators, and a tracer provider whose spans get real ids,
 * exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set and `OTEL_TRACES_EXPORTER` is not `none`.
 * A later call returns what the first one installed.
 */
export function initTracing(options: TracingOptions): Tracing {
  if (installed) return installed;
  const env = options.env ?? process.env;
  const service = env.OTEL_SERVICE_NAME || options.service;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const exporting = Boolean(endpoint) && env.OTEL_TRACES_EXPORTER !== 'none';
  const spanProcessors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (exporting) {
    const url = `${endpoint!.replace(/\/+$/, '')}/v1/traces`;
    spanProcessors.push(
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url }), scheduledDelayMillis: 1_000 }),
    );
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors,
  });
  trace.setGlobalTracerProvider(provider);
  installed = { service, exporting, provider, flush: () => provider.forceFlush() };
  return installed;
}

/** Installs tracing with defaults when a helper runs before the service installed it (tests, tools). */
function ensureTracing(): void {
  if (!installed) initTracing({ service: process.env.OTEL_SERVICE_NAME || 'unknown_service:node' });
}

/** The project's tracer (installs tracing with defaults first when the service has not). */
export const tracer = () => {
  ensureTracing();
  return trace.getTracer(TRACER_NAME);
};

/** Header values as brokers hand them over: strings, Buffers (AMQP, Kafka), arrays. */
const headerGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const raw = carrier[key] ?? carrier[key.toLowerCase()];
    const first: unknown = Array.isArray(raw) ? raw[0] : raw;
    if (first === undefined || first === null) return undefined;
    return Buffer.isBuffer(first) ? first.toString('utf8') : typeof first === 'string' ? first : undefined;
  },
};

/** The trace headers (`traceparent`, and `tracestate` when there is one) of a context: the active one by default. */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  ensureTracing();
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The context a message's headers carry; the root context (a new trace) when they carry none. */
export function extractTraceContext(headers: Record<string, unknown> | undefined): Context {
  ensureTracing();
  return propagation.extract(ROOT_CONTEXT, headers ?? {}, headerGetter);
}

/** The parts of a W3C `traceparent` value, or undefined when it is not one. */
export function parseTraceparent(
  value: string | undefined,
): { version: string; traceId: string; spanId: string; sampled: boolean } | undefined {
  const match = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value?.trim() ?? '');
  if (!match || match[1] === 'ff' || /^0+$/.test(match[2]!) || /^0+$/.test(match[3]!)) return undefined;
  return {
    version: match[1]!,
    traceId: match[2]!,
    spanId: match[3]!,
    sampled: (parseInt(match[4]!, 16) & 1) === 1,
  };
}

/** Trace and span id of the active span, for log lines. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  const span = trace.getActiveSpan();
  const ids = span?.spanContext();
  if (!ids || !trace.isSpanContextValid(ids)) return undefined;
  return { traceId: ids.traceId, spanId: ids.spanId };
}

/** Marks the active span (if any) as failed with `error`, for paths that handle the error themselves. */
export function recordSpanFailure(error: unknown): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  failSpan(span, error);
}

function failSpan(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; the active context by default. */
  parent?: Context;
}

/** Runs `fn` inside a new span (active for everything `fn` does, across awaits); ends it when `fn` settles. */
export async function withSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Pattern: trace context through a message. Runs the handling of one delivery in a CONSUMER span whose parent
 * is the context its headers carry (`traceparent`), so whatever the handler sends continues the same trace.
 */
export function withConsumerSpan<T>(
  name: string,
  headers: Record<string, unknown> | undefined,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return withSpan(name, { kind: SpanKind.CONSUMER, attributes, parent: extractTraceContext(headers) }, fn);
}

/** A PRODUCER span for one message whose headers were written earlier (an outbox row). */
export interface ProducerSpan {
  /** The message's headers with the producer span as their `traceparent`. */
  headers: Record<string, string>;
  end(error?: unknown): void;
}

/**
 * Starts a PRODUCER span as the child of the context stored in `headers` (the transaction that wrote an outbox
 * row), and gives back the headers to publish with: the same, with this span as the parent of the consumer's.
 * Headers without a trace context are returned as they are, with no span (no new trace starts at the relay).
 */
export function startProducerSpan(
  name: string,
  headers: Record<string, string> | undefined,
  attributes: Attributes = {},
): ProducerSpan {
  const base = { ...(headers ?? {}) };
  if (!parseTraceparent(base[TRACEPARENT])) return { headers: base, end: () => undefined };
  const parent = extractTraceContext(base);
  const span = tracer().startSpan(name, { kind: SpanKind.PRODUCER, attributes }, parent);
  return {
    headers: { ...base, ...traceHeaders(trace.setSpan(parent, span)) },
    end: (error?: unknown) => {
      if (error !== undefined) failSpan(span, error);
      span.end();
    },
  };
}

export { SpanKind };
