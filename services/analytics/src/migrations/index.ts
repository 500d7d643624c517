import { MessagingTables1764400000000 } from '@am/persistence';
import { Analytics1764400000500 } from './1764400000500-analytics.migration.js';

export const migrations = [MessagingTables1764400000000, Analytics1764400000500];
