import {
  ConflictException,
  HttpException,
  Injectable,
  Logger,
  NotFoundException,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OperatorActions } from '@am/messaging';
import { groupableDeadLetters } from '../inspect-dead-letters/dead-letter-groups.controller.js';
import { fingerprintOfLetter } from '../inspect-dead-letters/dead-letter-groups.js';
import { AlreadyReplayedException, DeadLetterReplayer } from '../replay-dead-letter/dead-letter-replayer.js';
import { newFailuresOf, nextSendAt, type NewFailures } from './pace.js';
import { MAX_RUN_LETTERS, type StartReplayRunRequest } from './replay-run.request.js';

/** What a run replays: the ids it was given, or a group's waiting letters (with what the group is). */
export type RunSelection =
  | { kind: 'ids' }
  | { kind: 'group'; groupId: string; where: string; messageType: string | null; reason: string; waiting: number };

export type RunState = 'running' | 'done' | 'cancelled' | 'stopped' | 'interrupted';

/** A bulk replay as `GET /dead-letter-replays/:id` shows it. */
export interface ReplayRunView {
  id: number;
  /** `stopped`: it gave up (failures in a row, or audit shutting down); `interrupted`: its process went away. */
  state: RunState;
  startedBy: string;
  startedAt: string;
  finishedAt: string | null;
  perSecond: number;
  selection: RunSelection;
  total: number;
  /** Sent to the broker, one message per dead letter. */
  sent: number;
  /** Replayed already (by someone else, or a run before): nothing sent. */
  skipped: number;
  /** Could not be replayed; `failures` says why (the newest 20). */
  failed: number;
  remaining: number;
  failures: { id: number; reason: string }[];
  cancelledBy: string | null;
  stopReason: string | null;
  /** The warning: dead letters of the same groups that arrived since the run started. */
  newFailures: NewFailures & { since: string };
}

/** The dry run of a bulk replay: what it would send, where, and how long it would take; nothing is sent. */
export interface ReplayRunPreview {
  dryRun: true;
  selection: RunSelection;
  total: number;
  perSecond: number;
  willSend: number;
  estimatedSeconds: number;
  /** How many would go to each destination (a queue, or a group's replay topic). */
  destinations: Record<string, number>;
  letters: { id: number; messageId: string; to: string }[];
  skipped: { id: number; reason: string }[];
}

interface RunRow {
  id: string;
  state: Exclude<RunState, 'interrupted'>;
  started_by: string;
  started_at: Date;
  finished_at: Date | null;
  per_second: number;
  selection: RunSelection;
  letter_ids: string[];
  fingerprints: string[];
  watermark: string;
  sent: number;
  skipped: number;
  failed: number;
  failures: { id: number; reason: string }[];
  heartbeat_at: Date;
  cancelled_by: string | null;
  cancel_requested_by: string | null;
  stop_reason: string | null;
}

/** A run this process is working on. */
interface LiveRun {
  row: RunRow;
  cancelledBy?: string;
  stopReason?: string;
  wake?: () => void;
  done: Promise<void>;
}

/** Progress is written this often; a run whose progress is older than STALE_MS in a process that is gone is interrupted. */
const FLUSH_MS = 500;
const STALE_MS = 10_000;
/** A run stops after this many failures in a row (a broker down): the letters stay waiting, to be replayed later. */
const FAILURES_IN_A_ROW = 5;

/**
 * Bulk replays: a selection of dead letters (ids, or a group's waiting letters) replayed in the background at
 * `perSecond`, each through `DeadLetterReplayer.replay`, the single replay's own code path, so each dead letter sends
 * one message at most and one that was replayed already is skipped. Progress (sent, skipped, failed, remaining) is kept
 * in `dead_letter_replay_runs`; a run can be cancelled; and while it runs, new dead letters of the same groups (by
 * fingerprint) are counted as a warning: the cause may not be fixed, or the replayed messages fail again.
 */
@Injectable()
export class ReplayRuns implements BeforeApplicationShutdown {
  private readonly logger = new Logger('dead-letter-replays');
  private readonly live = new Map<string, LiveRun>();

  constructor(
    private readonly db: DataSource,
    private readonly replayer: DeadLetterReplayer,
    private readonly actions: OperatorActions,
  ) {}

  /** The dry run: each letter's plan, as the replay would compute it. */
  async preview(request: StartReplayRunRequest): Promise<ReplayRunPreview> {
    const { selection, ids } = await this.resolve(request);
    const letters: ReplayRunPreview['letters'] = [];
    const skipped: ReplayRunPreview['skipped'] = [];
    for (const id of ids) {
      try {
        const plan = await this.replayer.plan(id);
        letters.push({
          id: Number(id),
          messageId: plan.messageId,
          to: plan.kind === 'queue' ? plan.routingKey : plan.record.topic,
        });
      } catch (error) {
        skipped.push({ id: Number(id), reason: reasonOf(error) });
      }
    }
    const destinations: Record<string, number> = {};
    for (const letter of letters) destinations[letter.to] = (destinations[letter.to] ?? 0) + 1;
    return {
      dryRun: true,
      selection,
      total: ids.length,
      perSecond: request.perSecond,
      willSend: letters.length,
      estimatedSeconds: letters.length === 0 ? 0 : (letters.length - 1) / request.perSecond,
      destinations,
      letters,
      skipped,
    };
  }

  /** Starts a run in the background in the name of operator `by`; answers at once. */
  async start(request: StartReplayRunRequest, by: string): Promise<ReplayRunView> {
    const { selection, ids, fingerprints } = await this.resolve(request);
    // The run in the trail of operators' actions (each letter it sends is recorded too, by the replayer).
    await this.actions.record(
      { subject: by },
      {
        action: 'dead-letter.bulk-replay',
        target: selection.kind === 'group' ? selection.groupId : `${ids.length} dead letters`,
        details: { letters: ids.length, perSecond: request.perSecond, selection },
      },
    );
    const [row] = await this.db.query<RunRow[]>(
      `INSERT INTO dead_letter_replay_runs (started_by, per_second, selection, letter_ids, fingerprints, watermark)
       VALUES ($1, $2, $3, $4::bigint[], $5::text[], (SELECT coalesce(max(id), 0) FROM dead_letters))
       RETURNING ${RUN_COLUMNS}`,
      [by, request.perSecond, JSON.stringify(selection), ids, [...fingerprints]],
    );
    const live: LiveRun = { row: row!, done: Promise.resolve() };
    this.live.set(row!.id, live);
    live.done = this.work(live).catch((error: unknown) => {
      this.logger.error(`bulk replay ${row!.id} broke off: ${(error as Error).message}`);
    });
    this.logger.warn(
      `bulk replay ${row!.id} started by ${by}: ${ids.length} dead letters at ${request.perSecond}/s` +
        (selection.kind === 'group' ? ` (group ${selection.groupId}, ${selection.where})` : ''),
    );
    return this.view(live.row);
  }

  async get(id: string): Promise<ReplayRunView> {
    return this.view(await this.row(id));
  }

  /** The newest runs, newest first. */
  async list(): Promise<ReplayRunView[]> {
    const rows = await this.db.query<RunRow[]>(
      `SELECT ${RUN_COLUMNS} FROM dead_letter_replay_runs ORDER BY id DESC LIMIT 20`,
    );
    return Promise.all(rows.map((row) => this.view(this.live.get(row.id)?.row ?? row)));
  }

  /**
   * Cancels a running run in the name of operator `by`: no letter is sent after the answer (one being sent finishes).
   * A run of another audit process is asked to stop through its row, and stops within half a second.
   */
  async cancel(id: string, by: string): Promise<ReplayRunView> {
    const live = this.live.get(id);
    // The refusals first (404 for a run that is not there, 409 for one that has ended): they leave no record in the trail.
    const row = live ? undefined : await this.row(id);
    if (row && (row.state !== 'running' || this.interrupted(row)))
      throw new ConflictException(`bulk replay ${id} has ended (${this.interrupted(row) ? 'interrupted' : row.state})`);
    await this.actions.record({ subject: by }, { action: 'dead-letter.bulk-replay-cancel', target: id });
    if (live) {
      live.cancelledBy ??= by;
      live.wake?.();
      await live.done;
      this.logger.warn(`bulk replay ${id} cancelled by ${by}`);
      return this.get(id);
    }
    await this.db.query(
      'UPDATE dead_letter_replay_runs SET cancel_requested_by = coalesce(cancel_requested_by, $2) WHERE id = $1',
      [id, by],
    );
    this.logger.warn(`bulk replay ${id} (in another audit process) asked to stop by ${by}`);
    return this.get(id);
  }

  /** Before the database and the brokers close: each run stops after the letter it is sending, and says so. */
  async beforeApplicationShutdown(): Promise<void> {
    for (const live of this.live.values()) {
      live.stopReason ??= 'the audit service shut down';
      live.wake?.();
    }
    await Promise.all([...this.live.values()].map((live) => live.done));
  }

  /** The run's letters, oldest first, and the fingerprints of their groups; 404 for ids or a group that is not there. */
  private async resolve(
    request: StartReplayRunRequest,
  ): Promise<{ selection: RunSelection; ids: string[]; fingerprints: Set<string> }> {
    if (request.ids) {
      const wanted = [...new Set(request.ids)];
      const rows = await this.db.query<{ id: string }[]>(
        'SELECT id FROM dead_letters WHERE id = ANY($1::bigint[]) ORDER BY id',
        [wanted],
      );
      const found = new Set(rows.map((r) => r.id));
      const missing = wanted.filter((id) => !found.has(id));
      if (missing.length) throw new NotFoundException(`no dead letter ${missing.slice(0, 10).join(', ')}`);
      const ids = rows.map((r) => r.id);
      const fingerprints = new Set((await groupableDeadLetters(this.db, { ids })).map(fingerprintOfLetter));
      return { selection: { kind: 'ids' }, ids, fingerprints };
    }
    const groupId = request.groupId!;
    const letters = (await groupableDeadLetters(this.db)).filter((l) => fingerprintOfLetter(l) === groupId);
    const first = letters[0];
    if (!first) throw new NotFoundException(`no dead letters in group ${groupId}`);
    const waiting = letters.filter((l) => !l.replayed).sort((a, b) => a.id - b.id);
    if (waiting.length === 0) throw new ConflictException(`group ${groupId} has no dead letter waiting to be replayed`);
    const selection: RunSelection = {
      kind: 'group',
      groupId,
      where: first.where,
      messageType: first.messageType,
      reason: first.reason,
      waiting: waiting.length,
    };
    return {
      selection,
      ids: waiting.slice(0, MAX_RUN_LETTERS).map((l) => String(l.id)),
      fingerprints: new Set([groupId]),
    };
  }

  /** The run itself: each letter in turn, paced, until done, cancelled or stopped; progress written as it goes. */
  private async work(live: LiveRun): Promise<void> {
    const row = live.row;
    let previous: number | undefined;
    let inARow = 0;
    const flusher = setInterval(() => void this.flush(live).catch(() => undefined), FLUSH_MS);
    try {
      for (const id of row.letter_ids) {
        if (live.cancelledBy || live.stopReason) break;
        const at = nextSendAt(previous, Date.now(), row.per_second);
        if (at > Date.now()) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, at - Date.now());
            live.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          live.wake = undefined;
        }
        if (live.cancelledBy || live.stopReason) break;
        const startedAt = Date.now();
        try {
          await this.replayer.replay(id, row.started_by);
          row.sent += 1;
          previous = startedAt;
          inARow = 0;
        } catch (error) {
          if (error instanceof AlreadyReplayedException) {
            row.skipped += 1;
            continue;
          }
          row.failed += 1;
          previous = startedAt;
          row.failures = [{ id: Number(id), reason: reasonOf(error) }, ...row.failures].slice(0, 20);
          if (++inARow >= FAILURES_IN_A_ROW)
            live.stopReason = `${FAILURES_IN_A_ROW} failures in a row; the last: ${reasonOf(error)}`;
        }
      }
    } finally {
      clearInterval(flusher);
      row.state = live.cancelledBy ? 'cancelled' : live.stopReason ? 'stopped' : 'done';
      await this.db.query(
        `UPDATE dead_letter_replay_runs
            SET state = $2, finished_at = now(), sent = $3, skipped = $4, failed = $5, failures = $6,
                heartbeat_at = now(), cancelled_by = $7, stop_reason = $8
          WHERE id = $1`,
        [
          row.id,
          row.state,
          row.sent,
          row.skipped,
          row.failed,
          JSON.stringify(row.failures),
          live.cancelledBy ?? null,
          live.stopReason ?? null,
        ],
      );
      this.live.delete(row.id);
      this.logger.warn(
        `bulk replay ${row.id} ${row.state}: ${row.sent} sent, ${row.skipped} skipped, ${row.failed} failed of ` +
          `${row.letter_ids.length}${live.stopReason ? ` (${live.stopReason})` : ''}`,
      );
    }
  }

  /** Writes the run's progress; picks up a request to stop from another process. */
  private async flush(live: LiveRun): Promise<void> {
    const { row } = live;
    const [state] = await this.db.query<{ cancel_requested_by: string | null }[]>(
      `WITH flushed AS (
         UPDATE dead_letter_replay_runs
            SET sent = $2, skipped = $3, failed = $4, failures = $5, heartbeat_at = now()
          WHERE id = $1 RETURNING cancel_requested_by)
       SELECT cancel_requested_by FROM flushed`,
      [row.id, row.sent, row.skipped, row.failed, JSON.stringify(row.failures)],
    );
    if (state?.cancel_requested_by && !live.cancelledBy) {
      live.cancelledBy = state.cancel_requested_by;
      live.wake?.();
    }
  }

  private async row(id: string): Promise<RunRow> {
    const live = this.live.get(id);
    if (live) return live.row;
    const [row] = await this.db.query<RunRow[]>(`SELECT ${RUN_COLUMNS} FROM dead_letter_replay_runs WHERE id = $1`, [
      id,
    ]);
    if (!row) throw new NotFoundException(`no bulk replay ${id}`);
    return row;
  }

  private interrupted(row: RunRow): boolean {
    return row.state === 'running' && !this.live.has(row.id) && Date.now() - row.heartbeat_at.getTime() > STALE_MS;
  }

  private async view(row: RunRow): Promise<ReplayRunView> {
    const arrived = await groupableDeadLetters(this.db, { after: row.watermark });
    const replayed = await this.db.query<{ message_id: string }[]>(
      'SELECT DISTINCT message_id FROM dead_letters WHERE id = ANY($1::bigint[])',
      [row.letter_ids],
    );
    const live = this.live.get(row.id);
    const total = row.letter_ids.length;
    return {
      id: Number(row.id),
      state: this.interrupted(row) ? 'interrupted' : row.state,
      startedBy: row.started_by,
      startedAt: row.started_at.toISOString(),
      finishedAt: row.finished_at?.toISOString() ?? null,
      perSecond: row.per_second,
      selection: row.selection,
      total,
      sent: row.sent,
      skipped: row.skipped,
      failed: row.failed,
      remaining: total - row.sent - row.skipped - row.failed,
      failures: row.failures,
      cancelledBy: live?.cancelledBy ?? row.cancelled_by,
      stopReason: live?.stopReason ?? row.stop_reason,
      newFailures: {
        ...newFailuresOf(arrived, new Set(row.fingerprints), new Set(replayed.map((r) => r.message_id))),
        since: row.started_at.toISOString(),
      },
    };
  }
}

const RUN_COLUMNS = `id, state, started_by, started_at, finished_at, per_second, selection, letter_ids::text[] AS letter_ids,
  fingerprints, watermark::text AS watermark, sent, skipped, failed, failures, heartbeat_at, cancelled_by,
  cancel_requested_by, stop_reason`;

/** The reason of a refused or failed replay, as its HTTP answer would say it. */
function reasonOf(error: unknown): string {
  if (error instanceof HttpException) {
    const body = error.getResponse() as { message?: unknown; reason?: unknown } | string;
    if (typeof body === 'string') return body;
    if (typeof body.reason === 'string') return body.reason;
    if (typeof body.message === 'string') return body.message;
  }
  return (error as Error).message ?? String(error);
}
