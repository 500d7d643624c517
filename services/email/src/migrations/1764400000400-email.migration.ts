import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The email service's own tables: `email_recipients`, the local read model of users fed by `user.registered`
 * (order events carry a user id, not an address), and `sent_emails`, one row per e-mail, whose unique
 * `dedupe_key` is what makes "never two e-mails for one fact" hold.
 */
export class Email1764400000400 implements MigrationInterface {
  name = 'Email1764400000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE email_recipients (
        user_id       text PRIMARY KEY,
        email         text NOT NULL,
        name          text NOT NULL,
        registered_at timestamptz NOT NULL,
        updated_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE sent_emails (
        id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        dedupe_key      text NOT NULL UNIQUE,
        kind            text NOT NULL CHECK (kind IN ('welcome', 'order-confirmed', 'order-cancelled')),
        to_address      text NOT NULL,
        subject         text NOT NULL,
        smtp_message_id text NOT NULL,
        event_id        uuid NOT NULL,
        event_type      text NOT NULL,
        correlation_id  text NOT NULL,
        sent_at         timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query('CREATE INDEX sent_emails_to_address_idx ON sent_emails (lower(to_address), sent_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sent_emails');
    await q.query('DROP TABLE email_recipients');
  }
}
