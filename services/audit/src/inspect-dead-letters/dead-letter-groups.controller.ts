import { BadRequestException, Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Access } from '@am/messaging';
import {
  groupDeadLetters,
  isFingerprint,
  type DeadLetterGroup,
  type GroupableDeadLetter,
} from './dead-letter-groups.js';
import { DEAD_LETTER_COLUMNS, toDeadLetterView, type DeadLetterRow, type DeadLetterView } from './dead-letter.view.js';

/** The newest dead letters grouped: enough for a workbench, bounded whatever the store holds. */
export const GROUPED_AT_MOST = 10_000;

/** The letters `GET /dead-letter-groups/:fingerprint` lists, newest first. */
const GROUP_LETTERS_AT_MOST = 200;

/**
 * The newest GROUPED_AT_MOST dead letters (only those newer than `after`, or only `ids`, when given), as much of each
 * as grouping needs, newest first.
 */
export async function groupableDeadLetters(
  db: DataSource,
  only: { after?: string; ids?: string[] } = {},
): Promise<GroupableDeadLetter[]> {
  const rows = await db.query<
    {
      id: string;
      queue: string;
      consumer_group: string | null;
      message_type: string | null;
      message_id: string;
      reason: string;
      received_at: Date;
      replayed: boolean;
      came_back: boolean;
    }[]
  >(
    `SELECT id, queue, consumer_group, message_type, message_id, reason, received_at,
            replayed_at IS NOT NULL AS replayed, came_back_at IS NOT NULL AS came_back
       FROM dead_letters WHERE id > $2 AND ($3::bigint[] IS NULL OR id = ANY($3::bigint[])) ORDER BY id DESC LIMIT $1`,
    [GROUPED_AT_MOST, only.after ?? '0', only.ids ?? null],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    where: r.consumer_group ? `${r.queue} (group ${r.consumer_group})` : r.queue,
    messageType: r.message_type,
    messageId: r.message_id,
    reason: r.reason,
    receivedAt: r.received_at,
    replayed: r.replayed,
    cameBack: r.came_back,
  }));
}

/** A letter of a group as its list shows it: the dead letter without its body (one at a time, from `/dead-letters/:id`). */
export type DeadLetterSummary = Omit<DeadLetterView, 'content' | 'contentNote'>;

/**
 * `GET /dead-letter-groups`: the dead letters of every dead letter queue and of the Kafka dead letter topic, grouped
 * by failure fingerprint (where it failed, its type, its reason without particulars), with counts (waiting,
 * came back after a replay) and first and last seen: the dead-letter workbench's list. `GET /dead-letter-groups/:id`:
 * one group and its newest letters.
 */
@Controller('dead-letter-groups')
@Access('operator')
export class DeadLetterGroupsController {
  constructor(private readonly db: DataSource) {}

  @Get()
  async list(): Promise<{ groups: DeadLetterGroup[]; grouped: number }> {
    const letters = await groupableDeadLetters(this.db);
    return { groups: groupDeadLetters(letters), grouped: letters.length };
  }

  @Get(':fingerprint')
  async group(
    @Param('fingerprint') fingerprint: string,
  ): Promise<{ group: DeadLetterGroup; letters: DeadLetterSummary[] }> {
    if (!isFingerprint(fingerprint))
      throw new BadRequestException(`a group id is a fingerprint of 12 hex digits, got "${fingerprint.slice(0, 40)}"`);
    const [group] = groupDeadLetters(await groupableDeadLetters(this.db), GROUP_LETTERS_AT_MOST).filter(
      (g) => g.fingerprint === fingerprint,
    );
    if (!group) throw new NotFoundException(`no dead letters in group ${fingerprint}`);
    const rows = await this.db.query<DeadLetterRow[]>(
      `SELECT ${DEAD_LETTER_COLUMNS.replace(/CASE WHEN[\s\S]*?END AS content/, 'NULL::bytea AS content')}
         FROM dead_letters WHERE id = ANY($1::bigint[]) ORDER BY id DESC`,
      [group.ids],
    );
    const letters = rows.map((row) => {
      const { content: _content, contentNote: _note, ...summary } = toDeadLetterView(row);
      return summary;
    });
    return { group: { ...group, ids: group.ids.slice(0, 20) }, letters };
  }
}
