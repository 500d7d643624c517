import { ConflictException, Controller, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  Access,
  AmqpClient,
  BrokerUnavailableError,
  CurrentCaller,
  Exchanges,
  KafkaClient,
  publishFailure,
  REPLAYED_FROM_HEADER,
  replayOf,
  RetryHeaders,
  type Caller,
} from '@am/messaging';
import { DeadLetterIdPipe } from '../inspect-dead-letters/dead-letter-id.pipe.js';
import { originalQueueOf } from '../store-dead-letter/dead-letter-queues.subscription.js';

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
}

/**
 * `POST /dead-letters/:id/replay`: puts the original bytes back on the queue they failed on, through the
 * `replays` exchange, with the original message id, type and correlation id and a fresh retry budget
 * (`x-retry-count: 0`), marked `x-replayed-from: <dead letter id>`. A Kafka dead letter goes to its consumer
 * group's replay topic instead (`replayOf` in libs/messaging: key, body, message id, correlation id, type and
 * trace kept, the failure headers dropped, `x-replayed-from: <topic>/<partition>/<offset>`), which that group alone
 * reads: one record, one group. Answers 202 once the broker has acknowledged it: the consumer works on it later.
 *
 * Replaying twice has one effect. A dead letter that was replayed answers 409. Two requests that race each
 * other may both publish; the consumer's inbox, keyed by the same message id, makes the second a no-op, and
 * `replay_count` records that it was sent twice. The broker call comes first and the row is marked after it,
 * outside any transaction: a crash in between leaves the dead letter unmarked, so it can be replayed again,
 * rather than marked as replayed when it never was.
 */
@Controller('dead-letters')
export class ReplayDeadLetterController {
  constructor(
    private readonly db: DataSource,
    private readonly amqp: AmqpClient,
    private readonly kafka: KafkaClient,
  ) {}

  @Post(':id/replay')
  @Access('operator')
  @HttpCode(202)
  async replay(@Param('id', DeadLetterIdPipe) id: string, @CurrentCaller() caller: Caller): Promise<ReplayAnswer> {
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
      throw new ConflictException(`dead letter ${id} was replayed at ${letter.replayed_at.toISOString()}`);
    }
    const replayedTo =
      letter.source === 'topic' ? await this.toReplayTopic(id, letter) : await this.toQueue(id, letter);
    // Wrapped in a CTE because TypeORM answers a bare UPDATE with [rows, count] instead of rows.
    const [marked] = await this.db.query<{ replayed_at: Date; replay_count: number }[]>(
      `WITH marked AS (
         UPDATE dead_letters
            SET replayed_at = coalesce(replayed_at, now()), replay_count = replay_count + 1, replayed_by = $2
          WHERE id = $1 RETURNING replayed_at, replay_count)
       SELECT replayed_at, replay_count FROM marked`,
      [id, caller.subject],
    );
    return {
      id: Number(id),
      replayedTo,
      messageId: letter.message_id,
      replayedAt: (marked?.replayed_at ?? new Date()).toISOString(),
      replayCount: marked?.replay_count ?? 1,
      replayedBy: caller.subject,
    };
  }

  /** Publishes a dead letter queue's letter back to its queue; returns the queue. */
  private async toQueue(id: string, letter: ReplayRow): Promise<string> {
    const queue = originalQueueOf(letter.queue);
    if (!queue) throw new ConflictException(`dead letter ${id} came from ${letter.queue}, which no queue feeds`);
    await this.amqp
      .publishRaw(Exchanges.replays, queue, letter.content, {
        messageId: letter.message_id,
        type: letter.message_type ?? undefined,
        correlationId: letter.correlation_id ?? undefined,
        headers: { [RetryHeaders.retryCount]: 0, [REPLAYED_FROM_HEADER]: id },
      })
      .catch(publishFailure);
    return queue;
  }

  /** Produces a Kafka dead letter to its group's replay topic, one record; returns the topic. */
  private async toReplayTopic(id: string, letter: ReplayRow): Promise<string> {
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
    await this.kafka.send([replay.record]).catch((error: unknown) => {
      publishFailure(new BrokerUnavailableError(`Kafka did not take the replay: ${(error as Error).message}`));
    });
    return replay.record.topic;
  }
}
