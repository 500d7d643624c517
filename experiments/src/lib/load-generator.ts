import http from 'node:http';
import { serviceToken } from '@am/testing';
import { epochMs } from './clock.js';

/** One request of a load run. */
export interface LoadRequest {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** What happened to one request. Times are epoch milliseconds. */
export interface LoadResult {
  index: number;
  /** When the schedule said to send it. */
  scheduledAt: number;
  /** When it was handed to the HTTP client (later than scheduled when the generator itself fell behind). */
  sentAt: number;
  /** When the answer (or the error) came. */
  endedAt: number;
  /** HTTP status, or 0 when there was no answer. */
  status: number;
  /** `timeout` (no answer within the timeout) or the socket error code, when there was no answer. */
  error?: string;
  /** Latency from the scheduled time, so a generator that falls behind cannot hide it (no coordinated omission). */
  latencyMs: number;
  retryAfter?: string;
  /** The parsed JSON body, when `keepBody` asked for it. */
  body?: unknown;
}

export interface OpenLoadOptions {
  baseUrl: string;
  /** How many requests in all. */
  requests: number;
  /** Over how long: request i is scheduled at i × durationMs / requests. */
  durationMs: number;
  request: (index: number) => LoadRequest;
  /** Per-request timeout (ms); a request without an answer by then counts as `timeout`. */
  timeoutMs?: number;
  /** Sockets the keep-alive agent may open (beyond it, requests wait in the agent; their latency shows it). */
  maxSockets?: number;
  /** Which answers to keep the parsed body of (default: none). */
  keepBody?: (status: number) => boolean;
  /**
   * The bearer token every request carries (default: a service token signed with the clone's key, as the load
   * tools act for many users; docs/security.md).
   */
  token?: string;
  /** Called about every second with the results so far. */
  onProgress?: (sent: number, done: number, results: readonly LoadResult[]) => void;
  /** Called with each request's result as it comes (the burst lab's live figures). */
  onResult?: (result: LoadResult) => void;
}

/**
 * An open-model load generator: requests leave on a fixed schedule whether or not earlier ones have been
 * answered, the way independent users arrive (a closed model, where each user waits for its answer before the
 * next request, slows down with the server and so hides its overload). node:http with a keep-alive agent.
 */
export async function runOpenLoad(options: OpenLoadOptions): Promise<{ start: number; results: LoadResult[] }> {
  const { requests, durationMs, timeoutMs = 30_000 } = options;
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 1_000, scheduling: 'fifo' });
  const base = new URL(options.baseUrl);
  const authorization = `Bearer ${options.token ?? (await serviceToken())}`;
  const results: LoadResult[] = new Array<LoadResult>(requests);
  const interval = requests > 1 ? durationMs / requests : 0;
  let sent = 0;
  let done = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  const start = epochMs();

  const finish = (result: LoadResult) => {
    results[result.index] = result;
    done++;
    options.onResult?.(result);
    if (done === requests) resolveAll();
  };

  const fire = (index: number, scheduledAt: number) => {
    const spec = options.request(index);
    const payload = spec.body === undefined ? undefined : Buffer.from(JSON.stringify(spec.body));
    const sentAt = epochMs();
    let settled = false;
    // The timeout runs from the send, whether or not the agent has a socket for the request yet (a socket
    // timeout would only start once it has one, and requests waiting for a socket would never time out).
    const settle = (status: number, extra: Partial<LoadResult> = {}) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const endedAt = epochMs();
      finish({ index, scheduledAt, sentAt, endedAt, status, latencyMs: endedAt - scheduledAt, ...extra });
    };
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: spec.method,
        path: spec.path,
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          authorization,
          ...spec.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const extra: Partial<LoadResult> = {};
          const retryAfter = res.headers['retry-after'];
          if (retryAfter) extra.retryAfter = retryAfter;
          if (options.keepBody?.(status)) {
            try {
              extra.body = JSON.parse(Buffer.concat(chunks).toString()) as unknown;
            } catch {
              extra.body = Buffer.concat(chunks).toString();
            }
          }
          settle(status, extra);
        });
        res.on('error', (error: NodeJS.ErrnoException) => settle(0, { error: error.code ?? error.message }));
      },
    );
    const timer = setTimeout(() => {
      settle(0, { error: 'timeout' });
      req.destroy();
    }, timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => settle(0, { error: error.code ?? error.message }));
    req.end(payload);
  };

  const reporter = options.onProgress ? setInterval(() => options.onProgress?.(sent, done, results), 1_000) : undefined;
  // The schedule: every tick sends every request that is due, so a late tick catches up instead of shifting
  // the rest of the schedule.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = epochMs();
      while (sent < requests && start + sent * interval <= now) {
        fire(sent, start + sent * interval);
        sent++;
      }
      if (sent < requests) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  if (requests === 0) resolveAll();
  await all;
  if (reporter) clearInterval(reporter);
  agent.destroy();
  return { start, results };
}
