import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency-Key reservations: the order id a (user, key) pair names and the fingerprint of the first request
 * that used it, written before the task is published. A second request with the same key and another body finds
 * the reservation and is refused, even while the task of the first one still waits in the queue.
 */
export class IdempotencyKeys1764400000102 implements MigrationInterface {
  name = 'IdempotencyKeys1764400000102';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        order_id     uuid PRIMARY KEY,
        request_hash text NOT NULL,
        reserved_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE idempotency_keys');
  }
}
