import { MessagingTables1764400000000 } from '@am/persistence';
import type { ServiceDefinition } from '@am/messaging';
import { AuditModule } from './audit.module.js';

export const auditService: ServiceDefinition = {
  service: 'audit',
  imports: [AuditModule],
  migrations: [MessagingTables1764400000000],
};
