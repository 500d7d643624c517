import { messagingMigrations } from '@am/persistence';
import { Audit1764400000600 } from './1764400000600-audit.migration.js';
import { DeadLetterLimits1764400000610 } from './1764400000610-dead-letter-limits.migration.js';
import { DeadLettersByCorrelation1764400000620 } from './1764400000620-dead-letters-by-correlation.migration.js';
import { KafkaDeadLetters1764400000630 } from './1764400000630-kafka-dead-letters.migration.js';
import { DeadLetterWorkbench1764400000640 } from './1764400000640-dead-letter-workbench.migration.js';
import { OperatorActions1764400000660 } from './1764400000660-operator-actions.migration.js';
import { DeadLetterReplayRuns1764400000670 } from './1764400000670-dead-letter-replay-runs.migration.js';

/** The audit service's migrations, in order: the library's messaging tables (inbox, outbox) first. */
export const migrations = [
  ...messagingMigrations,
  Audit1764400000600,
  DeadLetterLimits1764400000610,
  DeadLettersByCorrelation1764400000620,
  KafkaDeadLetters1764400000630,
  DeadLetterWorkbench1764400000640,
  OperatorActions1764400000660,
  DeadLetterReplayRuns1764400000670,
];
