export * from './metrics.js';
export * from './logger.js';
export * from './health.js';
export * from './log-context.js';
export * from './tracing.js';
export * from './http.js';
