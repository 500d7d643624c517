export * from './data-source.js';
export * from './inbox.js';
export * from './outbox.js';
export * from './messaging-tables.migration.js';
