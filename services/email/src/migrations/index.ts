import { messagingMigrations } from '@am/persistence';
import { Email1764400000400 } from './1764400000400-email.migration.js';

/** Every migration of the email database, in order: the library's inbox/outbox tables first. */
export const migrations = [...messagingMigrations, Email1764400000400];
