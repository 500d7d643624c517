import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bulk replays of dead letters (`POST /dead-letter-replays`): who started each run, what it replays (its letters,
 * resolved when it starts), at what rate, how far it got, and the newest dead letter id when it started (what counts
 * as a new failure during it). The process running it writes its progress every half second (`heartbeat_at`); another
 * process asks it to stop through `cancel_requested_by`.
 */
export class DeadLetterReplayRuns1764400000670 implements MigrationInterface {
  name = 'DeadLetterReplayRuns1764400000670';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE dead_letter_replay_runs (
        id                  bigserial PRIMARY KEY,
        started_by          text NOT NULL,
        started_at          timestamptz NOT NULL DEFAULT now(),
        finished_at         timestamptz,
        state               text NOT NULL DEFAULT 'running'
                              CHECK (state IN ('running', 'done', 'cancelled', 'stopped')),
        per_second          integer NOT NULL CHECK (per_second BETWEEN 1 AND 200),
        selection           jsonb NOT NULL,
        letter_ids          bigint[] NOT NULL,
        fingerprints        text[] NOT NULL,
        watermark           bigint NOT NULL,
        sent                integer NOT NULL DEFAULT 0,
        skipped             integer NOT NULL DEFAULT 0,
        failed              integer NOT NULL DEFAULT 0,
        failures            jsonb NOT NULL DEFAULT '[]',
        heartbeat_at        timestamptz NOT NULL DEFAULT now(),
        cancel_requested_by text,
        cancelled_by        text,
        stop_reason         text
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE dead_letter_replay_runs');
  }
}
