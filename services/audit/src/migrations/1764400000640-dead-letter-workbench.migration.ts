import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The dead-letter workbench: when a replayed message fails again (`came_back_at` on the dead letter that was
 * replayed), and what an edited replay sent instead of the stored body (`replayed_content`).
 */
export class DeadLetterWorkbench1764400000640 implements MigrationInterface {
  name = 'DeadLetterWorkbench1764400000640';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE dead_letters ADD COLUMN came_back_at timestamptz, ADD COLUMN replayed_content bytea');
    await q.query('CREATE INDEX dead_letters_by_message ON dead_letters (message_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX dead_letters_by_message');
    await q.query('ALTER TABLE dead_letters DROP COLUMN came_back_at, DROP COLUMN replayed_content');
  }
}
