import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The analytics read model: one row per order and per user, so every figure of the summary is a query. */
export class Analytics1764400000500 implements MigrationInterface {
  name = 'Analytics1764400000500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE order_stats (
        order_id   uuid PRIMARY KEY,
        user_id    text NOT NULL,
        total      bigint NOT NULL,
        status     text NOT NULL CHECK (status IN ('CREATED', 'CONFIRMED', 'CANCELLED')),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE registered_users (
        user_id       text PRIMARY KEY,
        registered_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE registered_users');
    await q.query('DROP TABLE order_stats');
  }
}
