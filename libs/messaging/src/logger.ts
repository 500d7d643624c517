/** The little a messaging component needs from a logger; pino and Nest's Logger both fit. */
export interface MessagingLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /** Optional: loggers without a debug level simply do not get these lines. */
  debug?(obj: object, msg?: string): void;
}

/** Writes one JSON line per record to stdout/stderr; used when no logger is given. */
export const consoleLogger: MessagingLogger = {
  info: (obj, msg) => console.log(JSON.stringify({ level: 'info', ...obj, msg })),
  warn: (obj, msg) => console.warn(JSON.stringify({ level: 'warn', ...obj, msg })),
  error: (obj, msg) => console.error(JSON.stringify({ level: 'error', ...obj, msg })),
};

/** Drops every record: for tests and tools that check behaviour, not log lines. */
export const silentLogger: MessagingLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
