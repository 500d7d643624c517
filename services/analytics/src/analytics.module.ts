import { Module } from '@nestjs/common';
import { OrderMetricsLoop } from './order-metrics/order-metrics.loop.js';
import { SummaryController } from './summary/summary.controller.js';
import { TrackUserHandler } from './user-tracking/track-user.handler.js';

@Module({
  controllers: [SummaryController, TrackUserHandler],
  providers: [OrderMetricsLoop],
})
export class AnalyticsModule {}
