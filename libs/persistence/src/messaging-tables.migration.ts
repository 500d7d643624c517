import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The tables every service needs for reliable messaging:
 * - `outbox`: messages that a transaction wants sent; the relay publishes and marks them
 *   (pattern: transactional outbox). The trigger made here is gone again: see OutboxClaims1764400000010.
 * - `processed_messages`: the inbox; one row per (consumer, message id) written in the same
 *   transaction as the effect, so a redelivered message has exactly one effect (pattern: idempotent consumer).
 */
/**
 * The first version's wake-up of the relay: a trigger that calls `pg_notify` on every insert into `table`. Removed
 * again by OutboxClaims1764400000010 (it serialises every outbox-writing commit of the server); kept as statements
 * for that migration's `down` and for the outbox benchmark, which measures it.
 */
export function outboxNotifyTrigger(table: string): string[] {
  return [
    `CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('outbox', '');
        RETURN NULL;
      END $$`,
    `CREATE TRIGGER outbox_inserted AFTER INSERT ON ${table}
      FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()`,
  ];
}

export class MessagingTables1764400000000 implements MigrationInterface {
  name = 'MessagingTables1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox (
        id           bigserial PRIMARY KEY,
        message_id   uuid        NOT NULL UNIQUE,
        broker       text        NOT NULL CHECK (broker IN ('amqp', 'kafka')),
        destination  text        NOT NULL,
        routing_key  text        NOT NULL DEFAULT '',
        message_type text        NOT NULL,
        payload      jsonb       NOT NULL,
        headers      jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at   timestamptz NOT NULL DEFAULT now(),
        sent_at      timestamptz
      )`);
    await q.query(`CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL`);
    for (const statement of outboxNotifyTrigger('outbox')) await q.query(statement);
    await q.query(`
      CREATE TABLE processed_messages (
        consumer     text        NOT NULL,
        message_id   uuid        NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, message_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE processed_messages');
    await q.query('DROP TRIGGER outbox_inserted ON outbox');
    await q.query('DROP FUNCTION outbox_notify');
    await q.query('DROP TABLE outbox');
  }
}
