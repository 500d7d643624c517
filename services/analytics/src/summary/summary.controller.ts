import { Controller, Get } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Access } from '@am/messaging';

export interface AnalyticsSummary {
  usersRegistered: number;
  ordersCreated: number;
  ordersConfirmed: number;
  ordersCancelled: number;
  /** Sum of confirmed order totals, in cents. */
  revenue: number;
}

interface SummaryRow {
  users: number;
  created: number;
  confirmed: number;
  cancelled: number;
  revenue: string;
}

/** `GET /analytics/summary`: the query side of the read model. */
@Controller('analytics')
export class SummaryController {
  constructor(private readonly db: DataSource) {}

  @Get('summary')
  @Access('operator')
  async summary(): Promise<AnalyticsSummary> {
    const [row] = await this.db.query<SummaryRow[]>(`
      SELECT (SELECT count(*) FROM registered_users)::int                        AS users,
             count(*)::int                                                       AS created,
             count(*) FILTER (WHERE status = 'CONFIRMED')::int                   AS confirmed,
             count(*) FILTER (WHERE status = 'CANCELLED')::int                   AS cancelled,
             coalesce(sum(total) FILTER (WHERE status = 'CONFIRMED'), 0)::bigint AS revenue
        FROM order_stats`);
    return {
      usersRegistered: row?.users ?? 0,
      ordersCreated: row?.created ?? 0,
      ordersConfirmed: row?.confirmed ?? 0,
      ordersCancelled: row?.cancelled ?? 0,
      revenue: Number(row?.revenue ?? 0),
    };
  }
}
