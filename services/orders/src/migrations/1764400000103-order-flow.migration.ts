import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The choreographed order flow: how each order runs (`flow`), and, for a choreographed one, its deadline. With no
 * orchestrator, orders owns the deadline of the orders it created; the partial index is what its sweep reads.
 */
export class OrderFlow1764400000103 implements MigrationInterface {
  name = 'OrderFlow1764400000103';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE orders
        ADD COLUMN flow text NOT NULL DEFAULT 'orchestrated' CHECK (flow IN ('orchestrated', 'choreographed')),
        ADD COLUMN deadline timestamptz`);
    await q.query(`
      CREATE INDEX orders_choreographed_deadline ON orders (deadline)
        WHERE flow = 'choreographed' AND status = 'PENDING'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX orders_choreographed_deadline');
    await q.query('ALTER TABLE orders DROP COLUMN deadline, DROP COLUMN flow');
  }
}
