import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The dead-letter store keeps at most `MAX_STORED_CONTENT_BYTES` of a body (the rest is not stored: the row says so,
 * with the whole body's size and SHA-256), and a replay records who replayed it.
 */
export class DeadLetterLimits1764400000610 implements MigrationInterface {
  name = 'DeadLetterLimits1764400000610';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE dead_letters
        ADD COLUMN content_bytes bigint,
        ADD COLUMN content_truncated boolean NOT NULL DEFAULT false,
        ADD COLUMN content_sha256 text,
        ADD COLUMN replayed_by text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE dead_letters
        DROP COLUMN content_bytes, DROP COLUMN content_truncated, DROP COLUMN content_sha256, DROP COLUMN replayed_by`);
  }
}
