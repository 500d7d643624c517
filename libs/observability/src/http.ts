import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { withLogContext } from './log-context.js';
import { extractTraceContext, tracer } from './tracing.js';

export const CORRELATION_ID_HEADER = 'x-correlation-id';

/** Routes probed by machines every few seconds: no span for them (they would flood the trace store). */
const UNTRACED = new Set(['/health', '/metrics']);

/** A correlation id from the request's `x-correlation-id` header when it is a sane token, else a new one. */
export function requestCorrelationId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[\w.:-]{1,128}$/.test(value) ? value : randomUUID();
}

/**
 * Express middleware for every service: gives each request a correlation id (echoed in `x-correlation-id`
 * and put on every log line written while it is handled), and runs it in a SERVER span that continues an
 * incoming `traceparent` or starts a trace. Messages published while handling it carry that trace.
 */
export function httpObservability() {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const correlationId = requestCorrelationId(req.headers[CORRELATION_ID_HEADER]);
    res.setHeader(CORRELATION_ID_HEADER, correlationId);
    const path = (req.url ?? '/').split('?')[0]!;
    if (UNTRACED.has(path)) {
      withLogContext({ correlationId }, next);
      return;
    }
    const method = req.method ?? 'GET';
    const parent = extractTraceContext(req.headers);
    const span = tracer().startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': method, 'url.path': path, 'app.correlation_id': correlationId },
      },
      parent,
    );
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const route = (req as IncomingMessage & { route?: { path?: unknown } }).route?.path;
      if (typeof route === 'string') {
        span.updateName(`${method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    context.with(trace.setSpan(parent, span), () => withLogContext({ correlationId }, next));
  };
}
