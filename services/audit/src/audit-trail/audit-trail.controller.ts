import { Controller, Get, Query } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Access, parseRequest } from '@am/messaging';
import { AuditTrailRequest } from './audit-trail.request.js';

interface AuditLogRow {
  position: string;
  source: string;
  message_id: string;
  type: string;
  version: number;
  correlation_id: string;
  causation_id: string | null;
  occurred_at: Date;
  recorded_at: Date;
  data: unknown;
}

/** One entry of an audit trail. */
export interface AuditEntry {
  position: number;
  source: string;
  messageId: string;
  type: string;
  version: number;
  correlationId: string;
  causationId: string | null;
  occurredAt: string;
  recordedAt: string;
  data: unknown;
}

/**
 * `GET /audit?correlationId=ID`: everything recorded under one correlation id — one order's whole story, or
 * one user's — in the order it happened (occurred time, then arrival position for ties).
 */
@Controller('audit')
export class AuditTrailController {
  constructor(private readonly db: DataSource) {}

  @Get()
  @Access('operator')
  async trail(@Query() query: unknown): Promise<{ correlationId: string; entries: AuditEntry[] }> {
    const { correlationId } = parseRequest(AuditTrailRequest, query);
    const rows = await this.db.query<AuditLogRow[]>(
      `SELECT position, source, message_id, type, version, correlation_id, causation_id, occurred_at, recorded_at, data
         FROM audit_log WHERE correlation_id = $1 ORDER BY occurred_at, position`,
      [correlationId],
    );
    return {
      correlationId,
      entries: rows.map((r) => ({
        position: Number(r.position),
        source: r.source,
        messageId: r.message_id,
        type: r.type,
        version: r.version,
        correlationId: r.correlation_id,
        causationId: r.causation_id,
        occurredAt: r.occurred_at.toISOString(),
        recordedAt: r.recorded_at.toISOString(),
        data: r.data,
      })),
    };
  }
}
