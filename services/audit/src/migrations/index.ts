import { MessagingTables1764400000000 } from '@am/persistence';
import { Audit1764400000600 } from './1764400000600-audit.migration.js';

/** The audit service's migrations, in order: the library's messaging tables (inbox, outbox) first. */
export const migrations = [MessagingTables1764400000000, Audit1764400000600];
