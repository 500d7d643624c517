import { MessagingTables1764400000000 } from '@am/persistence';
import { Payments1764400000300 } from './1764400000300-payments.migration.js';

/** The payments migrations in the order they run: the shared outbox/inbox tables first. */
export const migrations = [MessagingTables1764400000000, Payments1764400000300];
