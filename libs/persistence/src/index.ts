export * from './data-source.js';
export * from './inbox.js';
export * from './outbox.js';
export * from './messaging-tables.migration.js';
export * from './outbox-claims.migration.js';
export * from './outbox-commit-signal.js';
export * from './round-trips.js';
export * from './prepared-statements.js';

import { MessagingTables1764400000000 } from './messaging-tables.migration.js';
import { OutboxClaims1764400000010 } from './outbox-claims.migration.js';

/** The messaging tables' migrations, in order: every service lists these before its own. */
export const messagingMigrations = [MessagingTables1764400000000, OutboxClaims1764400000010];
export * from './consumer-offsets.js';
