import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The payments schema:
 * - `account_events`: the event store (pattern: event sourcing). One row per event, append-only; the unique
 *   (stream_id, version) is the optimistic-concurrency guard, and a trigger refuses UPDATE, DELETE and TRUNCATE
 *   so the history cannot be rewritten, only added to.
 * - `account_balances`: the read model (pattern: CQRS), a projection of the events that can be dropped and
 *   rebuilt from them at any time (`dist/rebuild-balances.js`).
 * - `payments`: one row per order, so that `payment.process` and `payment.refund` act at most once per order
 *   whatever the order in which the saga's commands arrive.
 */
export class Payments1764400000300 implements MigrationInterface {
  name = 'Payments1764400000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE account_events (
        position    bigserial   PRIMARY KEY,
        stream_id   text        NOT NULL,
        version     int         NOT NULL CHECK (version > 0),
        type        text        NOT NULL,
        data        jsonb       NOT NULL,
        message_id  uuid        NOT NULL UNIQUE,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT account_events_stream_version UNIQUE (stream_id, version)
      )`);
    await q.query(`
      CREATE FUNCTION account_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'account_events is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER account_events_no_update_or_delete BEFORE UPDATE OR DELETE ON account_events
      FOR EACH ROW EXECUTE FUNCTION account_events_append_only()`);
    await q.query(`
      CREATE TRIGGER account_events_no_truncate BEFORE TRUNCATE ON account_events
      FOR EACH STATEMENT EXECUTE FUNCTION account_events_append_only()`);
    await q.query(`
      CREATE TABLE account_balances (
        account_id text    PRIMARY KEY,
        name       text    NOT NULL,
        balance    bigint  NOT NULL CHECK (balance >= 0),
        is_open    boolean NOT NULL,
        version    int     NOT NULL CHECK (version > 0)
      )`);
    await q.query(`
      CREATE TABLE payments (
        order_id   uuid        PRIMARY KEY,
        account_id text        NOT NULL,
        amount     bigint      CHECK (amount > 0),
        status     text        NOT NULL CHECK (status IN ('COMPLETED', 'FAILED', 'REFUNDED', 'VOIDED')),
        reason     text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (status = 'VOIDED' OR amount IS NOT NULL),
        CHECK ((status = 'FAILED') = (reason IS NOT NULL))
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE payments');
    await q.query('DROP TABLE account_balances');
    await q.query('DROP TABLE account_events');
    await q.query('DROP FUNCTION account_events_append_only');
  }
}
