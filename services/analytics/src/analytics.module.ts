import { Module } from '@nestjs/common';
import { OrderStatsHandler } from './order-stats/order-stats.handler.js';
import { SummaryController } from './summary/summary.controller.js';
import { TrackUserHandler } from './user-tracking/track-user.handler.js';

@Module({ controllers: [SummaryController, OrderStatsHandler, TrackUserHandler] })
export class AnalyticsModule {}
