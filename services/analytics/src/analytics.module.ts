import { Module } from '@nestjs/common';
import { AccountActivityController } from './account-activity/account-activity.controller.js';
import { OrderMetricsController } from './order-metrics/order-metrics.controller.js';
import { OrderMetricsLoop } from './order-metrics/order-metrics.loop.js';
import { OrderMetricsView } from './order-metrics/order-metrics.view.js';
import { OrderStatsRebuilds } from './rebuild/order-stats-rebuilds.js';
import { RebuildController } from './rebuild/rebuild.controller.js';
import { SummaryController } from './summary/summary.controller.js';
import { TrackUserHandler } from './user-tracking/track-user.handler.js';

@Module({
  controllers: [
    SummaryController,
    AccountActivityController,
    OrderMetricsController,
    RebuildController,
    TrackUserHandler,
  ],
  providers: [OrderMetricsLoop, OrderMetricsView, OrderStatsRebuilds],
})
export class AnalyticsModule {}
