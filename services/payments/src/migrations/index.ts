import { messagingMigrations } from '@am/persistence';
import { Payments1764400000300 } from './1764400000300-payments.migration.js';
import { AccountSnapshots1764400000310 } from './1764400000310-account-snapshots.migration.js';

/** The payments migrations in the order they run: the shared outbox/inbox tables first. */
export const migrations = [...messagingMigrations, Payments1764400000300, AccountSnapshots1764400000310];
