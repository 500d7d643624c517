import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `account_snapshots`: one row per account stream, the state folded up to `version` (pattern: event sourcing,
 * snapshots). A command reads the snapshot and only the events after it, so its cost no longer grows with the
 * account's history. A snapshot is a cache of the events, never a source of truth: it can be deleted at any time
 * (the next command folds from the first event again), and a row whose `schema` is not the code's is ignored.
 */
export class AccountSnapshots1764400000310 implements MigrationInterface {
  name = 'AccountSnapshots1764400000310';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE account_snapshots (
        stream_id text        PRIMARY KEY,
        version   int         NOT NULL CHECK (version > 0),
        schema    int         NOT NULL,
        state     jsonb       NOT NULL,
        taken_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE account_snapshots');
  }
}
