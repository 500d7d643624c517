import { MessagingTables1764400000000 } from '@am/persistence';
import type { ServiceDefinition } from '@am/messaging';
import { EmailModule } from './email.module.js';

export const emailService: ServiceDefinition = {
  service: 'email',
  imports: [EmailModule],
  migrations: [MessagingTables1764400000000],
};
