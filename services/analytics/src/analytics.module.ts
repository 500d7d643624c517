import { Module } from '@nestjs/common';
import { AccountActivityController } from './account-activity/account-activity.controller.js';
import { OrderMetricsController } from './order-metrics/order-metrics.controller.js';
import { OrderMetricsLoop } from './order-metrics/order-metrics.loop.js';
import { OrderMetricsView } from './order-metrics/order-metrics.view.js';
import { SummaryController } from './summary/summary.controller.js';
import { TrackUserHandler } from './user-tracking/track-user.handler.js';

@Module({
  controllers: [SummaryController, AccountActivityController, OrderMetricsController, TrackUserHandler],
  providers: [OrderMetricsLoop, OrderMetricsView],
})
export class AnalyticsModule {}
