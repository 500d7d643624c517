export * from './test-env.js';
export * from './wait-for.js';
export * from './service-process.js';
export * from './http.js';
export * from './fixtures/child.js';
export * from './invariants.js';
export * from './fleet.js';
export * from './brokers.js';
