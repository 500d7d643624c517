import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The account activity read model, fed from `account-events` (one row per account). */
export class AccountActivity1764400000520 implements MigrationInterface {
  name = 'AccountActivity1764400000520';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE account_activity (
        account_id  text PRIMARY KEY,
        opened      boolean NOT NULL DEFAULT false,
        closed      boolean NOT NULL DEFAULT false,
        deposits    integer NOT NULL DEFAULT 0,
        deposited   bigint NOT NULL DEFAULT 0,
        withdrawals integer NOT NULL DEFAULT 0,
        withdrawn   bigint NOT NULL DEFAULT 0,
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE account_activity');
  }
}
