import { MessagingTables1764400000000 } from '@am/persistence';
import type { ServiceDefinition } from '@am/messaging';
import { PaymentsModule } from './payments.module.js';

export const paymentsService: ServiceDefinition = {
  service: 'payments',
  imports: [PaymentsModule],
  migrations: [MessagingTables1764400000000],
};
