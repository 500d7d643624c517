import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Orders1764400000100 implements MigrationInterface {
  name = 'Orders1764400000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id         uuid PRIMARY KEY,
        email      text NOT NULL UNIQUE,
        name       text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE orders (
        id          uuid PRIMARY KEY,
        user_id     uuid NOT NULL REFERENCES users (id),
        status      text NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'CANCELLED')),
        reason      text,
        total       bigint NOT NULL CHECK (total > 0),
        items       jsonb NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE orders');
    await q.query('DROP TABLE users');
  }
}
