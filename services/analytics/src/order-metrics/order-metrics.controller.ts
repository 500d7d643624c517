import { Controller, Get } from '@nestjs/common';
import { Access } from '@am/messaging';
import { OrderMetricsView } from './order-metrics.view.js';

/**
 * `GET /analytics/order-metrics`: what the exactly-once loop has committed to `order-metrics`, per minute and in
 * total (read with read_committed: an aborted transaction's records never count).
 */
@Controller('analytics')
export class OrderMetricsController {
  constructor(private readonly view: OrderMetricsView) {}

  @Get('order-metrics')
  @Access('operator')
  metrics(): ReturnType<OrderMetricsView['snapshot']> {
    return this.view.snapshot();
  }
}
