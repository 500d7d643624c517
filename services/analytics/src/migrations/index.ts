import { messagingMigrations } from '@am/persistence';
import { Analytics1764400000500 } from './1764400000500-analytics.migration.js';

export const migrations = [...messagingMigrations, Analytics1764400000500];
