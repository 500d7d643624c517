import { Module } from '@nestjs/common';
import { AccountActivityController } from './account-activity/account-activity.controller.js';
import { OrderMetricsLoop } from './order-metrics/order-metrics.loop.js';
import { SummaryController } from './summary/summary.controller.js';
import { TrackUserHandler } from './user-tracking/track-user.handler.js';

@Module({
  controllers: [SummaryController, AccountActivityController, TrackUserHandler],
  providers: [OrderMetricsLoop],
})
export class AnalyticsModule {}
