import type { ServiceDefinition } from '@am/messaging';
import { AnalyticsModule } from './analytics.module.js';
import { accountEventsProjection } from './account-activity/account-events.subscription.js';
import { migrations } from './migrations/index.js';
import { ORDER_METRICS_GROUP } from './order-metrics/order-metrics.loop.js';
import { orderEventsProjection } from './order-stats/order-events.subscription.js';
import { analyticsTrackingSubscription } from './user-tracking/analytics-tracking.subscription.js';

export const analyticsService: ServiceDefinition = {
  service: 'analytics',
  imports: [AnalyticsModule],
  migrations,
  amqp: [analyticsTrackingSubscription],
  kafkaProjections: [orderEventsProjection, accountEventsProjection],
  // The exactly-once loop adds per-minute deltas to order-metrics: records read again would be added again.
  kafkaGroupsWithoutRewind: [
    {
      groupId: ORDER_METRICS_GROUP,
      why: 'its output, per-minute sums in order-metrics, cannot be taken back: records read again would be counted twice',
    },
  ],
};
