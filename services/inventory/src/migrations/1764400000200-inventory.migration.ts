import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stock levels and the reservations of the order saga's `inventory.reserve` step.
 * The CHECK constraints are the last line of defence against overselling: even a bug in the handler cannot
 * make `available` or `reserved` negative, it can only make its transaction fail.
 */
export class Inventory1764400000200 implements MigrationInterface {
  name = 'Inventory1764400000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE stock (
        sku        text PRIMARY KEY CHECK (length(sku) BETWEEN 1 AND 64),
        available  integer NOT NULL CHECK (available >= 0),
        reserved   integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One row per order that inventory has heard of. RELEASED without items is a tombstone: the release came
    // first, and a late reserve for the order must be refused.
    await q.query(`
      CREATE TABLE reservations (
        order_id   uuid PRIMARY KEY,
        status     text NOT NULL CHECK (status IN ('RESERVED', 'RELEASED', 'REJECTED')),
        saga_id    uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE reservation_items (
        order_id uuid    NOT NULL REFERENCES reservations (order_id),
        sku      text    NOT NULL,
        quantity integer NOT NULL CHECK (quantity > 0),
        PRIMARY KEY (order_id, sku)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE reservation_items');
    await q.query('DROP TABLE reservations');
    await q.query('DROP TABLE stock');
  }
}
