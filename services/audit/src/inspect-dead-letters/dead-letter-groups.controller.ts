import { Controller, Get } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Access } from '@am/messaging';
import { groupDeadLetters, type DeadLetterGroup } from './dead-letter-groups.js';

/** The newest dead letters grouped: enough for a workbench, bounded whatever the store holds. */
const GROUPED_AT_MOST = 10_000;

/**
 * `GET /dead-letter-groups`: the dead letters of every dead letter queue and of the Kafka dead letter topic, grouped
 * by failure fingerprint (where it failed, its type, its reason without particulars), with counts (waiting,
 * came back after a replay) and first and last seen: the dead-letter workbench's list.
 */
@Controller('dead-letter-groups')
@Access('operator')
export class DeadLetterGroupsController {
  constructor(private readonly db: DataSource) {}

  @Get()
  async list(): Promise<{ groups: DeadLetterGroup[]; grouped: number }> {
    const rows = await this.db.query<
      {
        id: string;
        queue: string;
        consumer_group: string | null;
        message_type: string | null;
        reason: string;
        received_at: Date;
        replayed: boolean;
        came_back: boolean;
      }[]
    >(
      `SELECT id, queue, consumer_group, message_type, reason, received_at,
              replayed_at IS NOT NULL AS replayed, came_back_at IS NOT NULL AS came_back
         FROM dead_letters ORDER BY id DESC LIMIT $1`,
      [GROUPED_AT_MOST],
    );
    const groups = groupDeadLetters(
      rows.map((r) => ({
        id: Number(r.id),
        where: r.consumer_group ? `${r.queue} (group ${r.consumer_group})` : r.queue,
        messageType: r.message_type,
        reason: r.reason,
        receivedAt: r.received_at,
        replayed: r.replayed,
        cameBack: r.came_back,
      })),
    );
    return { groups, grouped: rows.length };
  }
}
