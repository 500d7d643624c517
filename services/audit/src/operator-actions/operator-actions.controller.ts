import { Controller, Get, Query } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { Access, parseRequest } from '@am/messaging';

const OperatorActionsQuery = z.strictObject({
  operator: z.string().trim().min(1).max(200).optional(),
  service: z.string().trim().min(1).max(64).optional(),
  /** An action, or an area (`fault` matches `fault.on` and `fault.off`). */
  action: z
    .string()
    .trim()
    .regex(/^[a-z][a-z.-]*$/)
    .max(80)
    .optional(),
  target: z.string().trim().min(1).max(300).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

interface OperatorActionRow {
  message_id: string;
  action: string;
  operator: string;
  service: string;
  target: string | null;
  details: Record<string, unknown>;
  occurred_at: Date;
  recorded_at: Date;
}

export interface OperatorActionEntry {
  id: string;
  action: string;
  operator: string;
  service: string;
  target: string | null;
  details: Record<string, unknown>;
  occurredAt: string;
  recordedAt: string;
}

/**
 * `GET /operator-actions`: the audit trail of what operators did, newest first (every fault switched on or off,
 * every replay, every reset), filtered by operator, service, action or area, or target. Operators only.
 */
@Controller('operator-actions')
export class OperatorActionsController {
  constructor(private readonly db: DataSource) {}

  @Get()
  @Access('operator')
  async list(@Query() query: unknown): Promise<{ actions: OperatorActionEntry[] }> {
    const q = parseRequest(OperatorActionsQuery, query);
    const rows = await this.db.query<OperatorActionRow[]>(
      `SELECT message_id, action, operator, service, target, details, occurred_at, recorded_at
         FROM operator_actions
        WHERE ($1::text IS NULL OR operator = $1)
          AND ($2::text IS NULL OR service = $2)
          AND ($3::text IS NULL OR action = $3 OR action LIKE $3 || '.%')
          AND ($4::text IS NULL OR target = $4)
        ORDER BY occurred_at DESC, recorded_at DESC
        LIMIT $5`,
      [q.operator ?? null, q.service ?? null, q.action ?? null, q.target ?? null, q.limit],
    );
    return {
      actions: rows.map((r) => ({
        id: r.message_id,
        action: r.action,
        operator: r.operator,
        service: r.service,
        target: r.target,
        details: r.details,
        occurredAt: r.occurred_at.toISOString(),
        recordedAt: r.recorded_at.toISOString(),
      })),
    };
  }
}
