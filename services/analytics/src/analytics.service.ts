import type { ServiceDefinition } from '@am/messaging';
import { AnalyticsModule } from './analytics.module.js';
import { accountEventsProjection } from './account-activity/account-events.subscription.js';
import { migrations } from './migrations/index.js';
import { orderEventsProjection } from './order-stats/order-events.subscription.js';
import { analyticsTrackingSubscription } from './user-tracking/analytics-tracking.subscription.js';

export const analyticsService: ServiceDefinition = {
  service: 'analytics',
  imports: [AnalyticsModule],
  migrations,
  amqp: [analyticsTrackingSubscription],
  kafkaProjections: [orderEventsProjection, accountEventsProjection],
};
