import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The saga's persisted state (step, status, deadline) and the request fingerprint behind Idempotency-Key. */
export class OrderSaga1764400000101 implements MigrationInterface {
  name = 'OrderSaga1764400000101';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE order_sagas (
        saga_id    uuid PRIMARY KEY,
        order_id   uuid NOT NULL UNIQUE REFERENCES orders (id),
        step       text NOT NULL,
        status     text NOT NULL CHECK (status IN ('RUNNING', 'CONFIRMED', 'CANCELLED')),
        reason     text,
        deadline   timestamptz,
        completed  text[] NOT NULL DEFAULT '{}',
        data       jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX order_sagas_due ON order_sagas (deadline) WHERE status = 'RUNNING'`);
    await q.query(`ALTER TABLE orders ADD COLUMN request_hash text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE orders DROP COLUMN request_hash');
    await q.query('DROP TABLE order_sagas');
  }
}
