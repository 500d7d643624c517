import type { MigrationInterface, QueryRunner } from 'typeorm';

/** One message's story in the control room looks up its dead letters by correlation id. */
export class DeadLettersByCorrelation1764400000620 implements MigrationInterface {
  name = 'DeadLettersByCorrelation1764400000620';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX dead_letters_by_correlation ON dead_letters (correlation_id, id DESC)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX dead_letters_by_correlation');
  }
}
