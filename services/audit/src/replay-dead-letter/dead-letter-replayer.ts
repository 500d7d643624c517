import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { MessageCatalog, allMessages } from '@am/contracts';
import { DataSource } from 'typeorm';
import {
  AmqpClient,
  BrokerUnavailableError,
  Exchanges,
  KafkaClient,
  OperatorActions,
  publishFailure,
  type KafkaRecord,
  REPLAYED_FROM_HEADER,
  replayOf,
  RetryHeaders,
} from '@am/messaging';
import { originalQueueOf } from '../store-dead-letter/dead-letter-queues.subscription.js';
import { lockDeadLettersOf } from '../store-dead-letter/message-lock.js';

interface ReplayRow {
  queue: string;
  message_id: string;
  message_type: string | null;
  correlation_id: string | null;
  content: Buffer;
  replayed_at: Date | null;
  content_truncated: boolean;
  source: 'queue' | 'topic';
  original_offset: string | null;
  record_key: string | null;
  record_headers: Record<string, string> | null;
}

/** What `POST /dead-letters/:id/replay` answers. */
export interface ReplayAnswer {
  id: number;
  replayedTo: string;
  messageId: string;
  replayedAt: string;
  replayCount: number;
  /** Who replayed it (the operator token's subject), also kept on the dead letter. */
  replayedBy: string;
  /** The fields an edited replay changed (JSON paths of the envelope); empty for the stored body as it was. */
  changed: string[];
}

/**
 * Exactly what a replay sends, and where: the workbench's dry run (`GET /dead-letters/:id/replay-plan`) shows it,
 * and the replay sends it, so the two cannot differ.
 */
export type ReplayPlan =
  | {
      kind: 'queue';
      /** The exchange and routing key: `replays`, to the queue the dead letter came from. */
      exchange: string;
      routingKey: string;
      messageId: string;
      type: string | null;
      correlationId: string | null;
      headers: Record<string, string | number>;
      body: Buffer;
    }
  | { kind: 'topic'; record: KafkaRecord; messageId: string };

/** A dead letter that was replayed already: 409, and a bulk replay counts it as skipped rather than failed. */
export class AlreadyReplayedException extends ConflictException {}

const catalog = new MessageCatalog(allMessages);

/** The JSON paths where two values differ (objects compared key by key, anything else as a whole). Pure. */
export function changedPaths(before: unknown, after: unknown, at = ''): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => changedPaths(before[k], after[k], at ? `${at}.${k}` : k));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [at || '(the whole body)'];
}

/**
 * The one code path that replays a dead letter: the single replay (`POST /dead-letters/:id/replay`) and every letter
 * of a bulk replay (`POST /dead-letter-replays`) go through `replay`, so both send exactly what the dry run shows.
 *
 * It puts the original bytes back on the queue they failed on, through the `replays` exchange, with the original
 * message id, type and correlation id and a fresh retry budget (`x-retry-count: 0`), marked `x-replayed-from: <dead
 * letter id>`. A Kafka dead letter goes to its consumer group's replay topic instead (`replayOf` in libs/messaging:
 * key, body, message id, correlation id, type and trace kept, the failure headers dropped, `x-replayed-from:
 * <topic>/<partition>/<offset>`), which that group alone reads: one record, one group. Resolves once the broker has
 * acknowledged it: the consumer works on it later.
 *
 * Replaying twice has one effect. A dead letter that was replayed is refused (409). A replay of a letter this process
 * is replaying at that moment is refused too (409), so a bulk run and a single replay of the same letter cannot both
 * send it. Two audit processes that race each other may both publish; the consumer's inbox, keyed by the same message
 * id, makes the second a no-op, and `replay_count` records that it was sent twice. The broker call comes first and
 * the row is marked after it, outside any transaction: a crash in between leaves the dead letter unmarked, so it can
 * be replayed again, rather than marked as replayed when it never was.
 */
@Injectable()
export class DeadLetterReplayer {
  /** The dead letters being replayed by this process right now. */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly db: DataSource,
    private readonly amqp: AmqpClient,
    private readonly kafka: KafkaClient,
    private readonly actions: OperatorActions,
  ) {}

  /**
   * The dry run: what a replay of dead letter `id` (with `envelope`, of its edited message) would send, and where,
   * and which fields the edit changes; nothing is sent. An edit that would be refused is refused here the same way.
   */
  async plan(id: string, envelope?: Record<string, unknown>): Promise<ReplayPlan & { changed: string[] }> {
    const { plan, edited } = await this.prepare(id, envelope);
    return { ...plan, changed: edited?.changed ?? [] };
  }

  /** Replays dead letter `id` (or, with `envelope`, its edited message) in the name of operator `by`. */
  async replay(id: string, by: string, envelope?: Record<string, unknown>): Promise<ReplayAnswer> {
    if (this.inFlight.has(id)) throw new ConflictException(`dead letter ${id} is being replayed right now`);
    this.inFlight.add(id);
    try {
      return await this.replayOnce(id, by, envelope);
    } finally {
      this.inFlight.delete(id);
    }
  }

  /** The letter, the edit when there is one, and the plan: the same for the dry run and the replay. */
  private async prepare(id: string, envelope?: Record<string, unknown>) {
    const letter = await this.replayable(id);
    const edited = envelope === undefined ? undefined : this.edit(id, letter, envelope);
    const plan = this.planOf(id, edited ? { ...letter, content: edited.content } : letter);
    return { letter, edited, plan };
  }

  private async replayOnce(id: string, by: string, envelope?: Record<string, unknown>): Promise<ReplayAnswer> {
    const { letter, edited, plan } = await this.prepare(id, envelope);
    // Into the trail of operators' actions first: a replay the trail would not show is not sent.
    await this.actions.record(
      { subject: by },
      {
        action: 'dead-letter.replay',
        target: id,
        details: {
          messageId: letter.message_id,
          to: plan.kind === 'queue' ? plan.routingKey : plan.record.topic,
          ...(edited ? { edited: edited.changed } : {}),
        },
      },
    );
    // The newest dead letter before the send: a letter of the same message stored after it came back from this replay.
    const [{ watermark } = { watermark: '0' }] = await this.db.query<{ watermark: string }[]>(
      'SELECT coalesce(max(id), 0)::text AS watermark FROM dead_letters',
    );
    if (plan.kind === 'queue') {
      await this.amqp
        .publishRaw(plan.exchange, plan.routingKey, plan.body, {
          messageId: plan.messageId,
          type: plan.type ?? undefined,
          correlationId: plan.correlationId ?? undefined,
          headers: plan.headers,
        })
        .catch(publishFailure);
    } else {
      await this.kafka.send([plan.record]).catch((error: unknown) => {
        publishFailure(new BrokerUnavailableError(`Kafka did not take the replay: ${(error as Error).message}`));
      });
    }
    // Wrapped in a CTE because TypeORM answers a bare UPDATE with [rows, count] instead of rows.
    const [marked] = await this.db.transaction(async (manager) => {
      await lockDeadLettersOf(manager, letter.message_id);
      return manager.query<{ replayed_at: Date; replay_count: number }[]>(
        `WITH marked AS (
           UPDATE dead_letters
              SET replayed_at = coalesce(replayed_at, now()), replay_count = replay_count + 1, replayed_by = $2,
                  replayed_content = $3,
                  -- The replayed message may fail and be stored again before this mark (a consumer that refuses it
                  -- at once): the store saw no replay yet and could not flag it, so the mark does. Both take the
                  -- message's lock first (message-lock.ts), so one of the two sees the other's commit.
                  came_back_at = coalesce(came_back_at, (
                    SELECT min(again.received_at) FROM dead_letters again
                     WHERE again.message_id = dead_letters.message_id AND again.id > $4::bigint))
            WHERE id = $1 RETURNING replayed_at, replay_count)
         SELECT replayed_at, replay_count FROM marked`,
        [id, by, edited?.content ?? null, watermark],
      );
    });
    return {
      id: Number(id),
      replayedTo: plan.kind === 'queue' ? plan.routingKey : plan.record.topic,
      messageId: letter.message_id,
      replayedAt: (marked?.replayed_at ?? new Date()).toISOString(),
      replayCount: marked?.replay_count ?? 1,
      replayedBy: by,
      changed: edited?.changed ?? [],
    };
  }

  /** The dead letter, if it can be replayed: 404 when there is none, 409 when it was replayed or is incomplete. */
  private async replayable(id: string): Promise<ReplayRow> {
    const [letter] = await this.db.query<ReplayRow[]>(
      `SELECT queue, message_id, message_type, correlation_id, content, replayed_at, content_truncated, source,
              original_offset::text AS original_offset, record_key, record_headers
         FROM dead_letters WHERE id = $1`,
      [id],
    );
    if (!letter) throw new NotFoundException(`dead letter ${id} not found`);
    if (letter.content_truncated) {
      throw new ConflictException(`dead letter ${id} was larger than the store keeps: only its first part is stored`);
    }
    if (letter.replayed_at) {
      throw new AlreadyReplayedException(`dead letter ${id} was replayed at ${letter.replayed_at.toISOString()}`);
    }
    return letter;
  }

  /**
   * An edited body: it must be a valid envelope of the same type and message id (the consumer's inbox and the story
   * still know it as that message), valid against its type's schema; else 400 and nothing is sent.
   */
  private edit(id: string, letter: ReplayRow, envelope: Record<string, unknown>) {
    const parsed = catalog.parse(JSON.stringify(envelope));
    if (!parsed.ok) throw new BadRequestException(`the edited message is not valid: ${parsed.reason}`);
    if (envelope.messageId !== letter.message_id || envelope.type !== letter.message_type) {
      throw new BadRequestException(
        `an edited replay keeps the dead letter's message id (${letter.message_id}) and type (${letter.message_type})`,
      );
    }
    let original: unknown;
    try {
      original = JSON.parse(letter.content.toString('utf8'));
    } catch {
      original = letter.content.toString('utf8');
    }
    const changed = changedPaths(original, envelope);
    if (changed.length === 0) throw new BadRequestException(`the edited message of dead letter ${id} changes nothing`);
    return { content: Buffer.from(JSON.stringify(envelope)), changed };
  }

  /** What a replay of `letter` sends: to its queue through `replays`, or to its group's replay topic. */
  private planOf(id: string, letter: ReplayRow): ReplayPlan {
    if (letter.source === 'topic') {
      const replay = replayOf(
        {
          offset: letter.original_offset ?? '',
          key: letter.record_key ?? '',
          value: letter.content,
          headers: letter.record_headers ?? {},
        },
        this.kafka.prefix,
      );
      if (!replay.ok) throw new ConflictException(`dead letter ${id} cannot be replayed: ${replay.reason}`);
      return { kind: 'topic', record: replay.record, messageId: letter.message_id };
    }
    const queue = originalQueueOf(letter.queue);
    if (!queue) throw new ConflictException(`dead letter ${id} came from ${letter.queue}, which no queue feeds`);
    return {
      kind: 'queue',
      exchange: Exchanges.replays,
      routingKey: queue,
      messageId: letter.message_id,
      type: letter.message_type,
      correlationId: letter.correlation_id,
      headers: { [RetryHeaders.retryCount]: 0, [REPLAYED_FROM_HEADER]: id },
      body: letter.content,
    };
  }
}
