import { Controller, Get } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Access } from '@am/messaging';
import { orderTotals, type OrderTotals } from '../replay/order-stats-rebuild.js';

export interface AnalyticsSummary extends OrderTotals {
  usersRegistered: number;
}

/** `GET /analytics/summary`: the query side of the read model. */
@Controller('analytics')
export class SummaryController {
  constructor(private readonly db: DataSource) {}

  @Get('summary')
  @Access('operator')
  async summary(): Promise<AnalyticsSummary> {
    const [users] = await this.db.query<{ n: number }[]>('SELECT count(*)::int AS n FROM registered_users');
    return { usersRegistered: users?.n ?? 0, ...(await orderTotals(this.db)) };
  }
}
