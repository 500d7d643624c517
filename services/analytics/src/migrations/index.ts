import { ConsumerOffsetLogs1764400000030, ConsumerOffsets1764400000020, messagingMigrations } from '@am/persistence';
import { Analytics1764400000500 } from './1764400000500-analytics.migration.js';
import { AccountActivity1764400000520 } from './1764400000520-account-activity.migration.js';

export const migrations = [
  ...messagingMigrations,
  ConsumerOffsets1764400000020,
  ConsumerOffsetLogs1764400000030,
  Analytics1764400000500,
  AccountActivity1764400000520,
];
