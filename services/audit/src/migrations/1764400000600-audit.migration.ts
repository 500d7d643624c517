import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit service's two stores:
 * - `dead_letters`: every message that reached a `<queue>-dlq`, with its exact bytes (bytea: a dead letter may be
 *   invalid UTF-8 or 10 MB large), the reason and retry count from its headers, and what replay did with it.
 *   One row per (queue, message id, last failure): a redelivered dead letter is recognised and not stored twice.
 *   `NULLS NOT DISTINCT` (PostgreSQL 15+) keeps that true when a dead letter carries no failure time.
 * - `audit_log`: an append-only list of every envelope the service saw, in arrival order (`position`).
 */
export class Audit1764400000600 implements MigrationInterface {
  name = 'Audit1764400000600';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE dead_letters (
        id              bigserial PRIMARY KEY,
        queue           text NOT NULL,
        message_id      text NOT NULL,
        message_type    text,
        correlation_id  text,
        content         bytea NOT NULL,
        reason          text NOT NULL,
        retry_count     integer NOT NULL DEFAULT 0,
        first_failed_at timestamptz,
        last_failed_at  timestamptz,
        received_at     timestamptz NOT NULL DEFAULT now(),
        replayed_at     timestamptz,
        replay_count    integer NOT NULL DEFAULT 0,
        CONSTRAINT dead_letters_once UNIQUE NULLS NOT DISTINCT (queue, message_id, last_failed_at)
      )`);
    await q.query('CREATE INDEX dead_letters_by_queue ON dead_letters (queue, id DESC)');
    await q.query(`
      CREATE TABLE audit_log (
        position       bigserial PRIMARY KEY,
        source         text NOT NULL,
        message_id     text NOT NULL,
        type           text NOT NULL,
        version        integer NOT NULL,
        correlation_id text NOT NULL,
        causation_id   text,
        occurred_at    timestamptz NOT NULL,
        recorded_at    timestamptz NOT NULL DEFAULT now(),
        data           jsonb NOT NULL,
        CONSTRAINT audit_log_once UNIQUE (source, message_id)
      )`);
    await q.query('CREATE INDEX audit_log_by_correlation ON audit_log (correlation_id, occurred_at, position)');
    // Append-only is enforced by the database, not by convention: the service role owns the table, so a
    // REVOKE would not bind it, but a trigger does.
    await q.query(`
      CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_log');
    await q.query('DROP FUNCTION audit_log_is_append_only()');
    await q.query('DROP TABLE dead_letters');
  }
}
