import type { MigrationInterface, QueryRunner } from 'typeorm';
import { outboxNotifyTrigger } from './messaging-tables.migration.js';

/**
 * The outbox without a notification in the commit path.
 *
 * The first version woke the relay with a trigger calling `pg_notify`. A notifying transaction takes one lock for
 * the whole PostgreSQL server at commit and holds it through its WAL flush, so every outbox-writing commit of
 * every database on the server waited for the one before it (no group commit). The relay is now woken inside the
 * process after a commit (see `outbox-commit-signal.ts`) and polls for rows that other instances wrote.
 *
 * The unique index on `message_id` goes too: a random uuid lands on a random page of that index, the most costly
 * write of an outbox insert (benchmarks.md, "The outbox commit path"), and it guarded nothing the consumers need:
 * they drop a second copy of a message id with their inbox, whoever sent it twice.
 *
 * `claimed_by` lets a relay take rows without keeping a transaction open while the broker confirms them: a
 * claim names the relay's database session (`pid:backend_start`), and it lapses the moment that session ends,
 * so a crashed relay's rows are taken over at once, not after a lease.
 */
export class OutboxClaims1764400000010 implements MigrationInterface {
  name = 'OutboxClaims1764400000010';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER IF EXISTS outbox_inserted ON outbox');
    await q.query('DROP FUNCTION IF EXISTS outbox_notify()');
    await q.query('ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_message_id_key');
    await q.query('ALTER TABLE outbox ADD COLUMN claimed_by text');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE outbox DROP COLUMN claimed_by');
    await q.query('ALTER TABLE outbox ADD CONSTRAINT outbox_message_id_key UNIQUE (message_id)');
    for (const statement of outboxNotifyTrigger('outbox')) await q.query(statement);
  }
}
