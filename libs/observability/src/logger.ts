import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger } from 'pino';
import { currentLogContext } from './log-context.js';
import { activeTraceIds } from './tracing.js';

/**
 * The fields each log line takes from where it was written: the correlation and message ids of the message
 * being handled (or the HTTP request's correlation id), and the trace and span ids of the active span.
 */
export function logContextFields(): Record<string, string> {
  return { ...currentLogContext(), ...activeTraceIds() };
}

/**
 * Structured JSON logs, one line per record, with the service name on each, and the correlation id, message id
 * and trace id of the message or request being handled (`logContextFields`).
 */
export function createLogger(
  service: string,
  level = process.env.LOG_LEVEL ?? 'info',
  destination?: DestinationStream,
): Logger {
  const options = { level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime, mixin: logContextFields };
  return destination ? pino(options, destination) : pino(options);
}

/** Lets Nest write through the same pino logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
