import type { ServiceDefinition } from '@am/messaging';
import { EmailModule } from './email.module.js';
import { mailBulkSubscription, mailPrioritySubscription } from './mail-lanes/mail-lanes.subscription.js';
import { migrations } from './migrations/index.js';
import { orderNotificationsSubscription } from './order-emails/order-notifications.subscription.js';
import { emailNotificationsSubscription } from './welcome-email/email-notifications.subscription.js';

/**
 * The email service: welcome e-mails from the `user-events` fanout, order e-mails from `order-events`, both
 * queued as `mail.send` jobs on the `mail` headers exchange and sent over SMTP from its two lanes.
 */
export const emailService: ServiceDefinition = {
  service: 'email',
  imports: [EmailModule],
  migrations,
  amqp: [emailNotificationsSubscription, mailPrioritySubscription, mailBulkSubscription],
  kafka: [orderNotificationsSubscription],
};
