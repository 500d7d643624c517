import type { ServiceDefinition } from '@am/messaging';
import { AuditModule } from './audit.module.js';
import { migrations } from './migrations/index.js';
import { auditLogSubscription } from './record-audit-log/audit-log.subscription.js';
import { auditOrderFlowSubscription } from './record-audit-log/audit-order-flow.subscription.js';
import { auditSagaSubscription } from './record-audit-log/audit-saga.subscription.js';
import { operatorActionsSubscription } from './operator-actions/operator-actions.subscription.js';
import { orderEventsSubscription } from './record-audit-log/order-events.subscription.js';

/**
 * The audit service. Its envelope subscriptions (validated, inbox, transaction) are declared here; the dead
 * letter queues are consumed raw by `DeadLetterQueuesConsumer`, because a dead letter need not be an envelope.
 */
export const auditService: ServiceDefinition = {
  service: 'audit',
  imports: [AuditModule],
  migrations,
  amqp: [auditLogSubscription, auditSagaSubscription, auditOrderFlowSubscription, operatorActionsSubscription],
  kafka: [orderEventsSubscription],
};
