import { Module } from '@nestjs/common';
import { AuditTrailController } from './audit-trail/audit-trail.controller.js';
import { ReplayRunsController } from './bulk-replay/replay-runs.controller.js';
import { ReplayRuns } from './bulk-replay/replay-runs.js';
import { DeadLetterGroupsController } from './inspect-dead-letters/dead-letter-groups.controller.js';
import { DeadLettersController } from './inspect-dead-letters/dead-letters.controller.js';
import { OperatorActionsController } from './operator-actions/operator-actions.controller.js';
import { RecordOperatorActionHandler } from './operator-actions/record-operator-action.handler.js';
import { RecordAuditLogHandler } from './record-audit-log/record-audit-log.handler.js';
import { RecordOrderFlowAuditLogHandler } from './record-audit-log/record-order-flow-audit-log.handler.js';
import { RecordSagaAuditLogHandler } from './record-audit-log/record-saga-audit-log.handler.js';
import { DeadLetterReplayer } from './replay-dead-letter/dead-letter-replayer.js';
import { ReplayDeadLetterController } from './replay-dead-letter/replay-dead-letter.controller.js';
import { DeadLetterQueuesConsumer } from './store-dead-letter/dead-letter-queues.consumer.js';
import { DeadLetterTopicConsumer } from './store-dead-letter/dead-letter-topic.consumer.js';
import { StoreDeadLetterHandler } from './store-dead-letter/store-dead-letter.handler.js';

/**
 * The audit service: the audit log (record, trail) and the dead letter store (store, inspect, replay) of the dead
 * letter queues and the Kafka dead letter topic, with the workbench's bulk replays, and the trail of operators'
 * actions.
 */
@Module({
  controllers: [
    AuditTrailController,
    RecordAuditLogHandler,
    RecordSagaAuditLogHandler,
    RecordOrderFlowAuditLogHandler,
    DeadLettersController,
    DeadLetterGroupsController,
    ReplayDeadLetterController,
    OperatorActionsController,
    RecordOperatorActionHandler,
    ReplayRunsController,
  ],
  providers: [
    StoreDeadLetterHandler,
    DeadLetterQueuesConsumer,
    DeadLetterTopicConsumer,
    DeadLetterReplayer,
    ReplayRuns,
  ],
})
export class AuditModule {}
