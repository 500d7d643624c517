import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What every log line written while handling one message (or one HTTP request) carries. Set by the consumer
 * path of libs/messaging and by the HTTP middleware; read by the pino `mixin` of `createLogger`.
 */
export interface LogContext {
  correlationId?: string;
  messageId?: string;
  messageType?: string;
  /** The queue or topic being consumed. */
  source?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `fn` with `fields` added to the current log context (undefined fields keep the outer value). */
export function withLogContext<T>(fields: LogContext, fn: () => T): T {
  const merged: LogContext = { ...storage.getStore() };
  for (const [key, value] of Object.entries(fields) as [keyof LogContext, string | undefined][]) {
    if (value !== undefined && value !== '') merged[key] = value;
  }
  return storage.run(merged, fn);
}

/** The log context of the code running now, if any. */
export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}
