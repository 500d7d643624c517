import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Kafka's dead letters join the store: `source` says whether a row came from a dead letter queue (`queue`) or from
 * the dead letter topic (`topic`, with the original topic, partition, offset and consumer group, the record's key
 * and headers, which a replay sends again). A Kafka dead letter is stored once per original record and group: the
 * dead letter topic is written at least once, and read at least once.
 */
export class KafkaDeadLetters1764400000630 implements MigrationInterface {
  name = 'KafkaDeadLetters1764400000630';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE dead_letters
        ADD COLUMN source text NOT NULL DEFAULT 'queue' CHECK (source IN ('queue', 'topic')),
        ADD COLUMN topic text,
        ADD COLUMN consumer_group text,
        ADD COLUMN original_partition integer,
        ADD COLUMN original_offset bigint,
        ADD COLUMN record_key text,
        ADD COLUMN record_headers jsonb,
        ADD COLUMN body_omitted_bytes bigint,
        ADD CONSTRAINT dead_letters_topic_origin CHECK (
          source = 'queue' OR (topic IS NOT NULL AND consumer_group IS NOT NULL
                               AND original_partition IS NOT NULL AND original_offset IS NOT NULL))`);
    await q.query('ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_once');
    await q.query(`
      CREATE UNIQUE INDEX dead_letters_once ON dead_letters (queue, message_id, last_failed_at) NULLS NOT DISTINCT
        WHERE source = 'queue'`);
    await q.query(`
      CREATE UNIQUE INDEX dead_letters_once_per_record
        ON dead_letters (topic, consumer_group, original_partition, original_offset) WHERE source = 'topic'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query("DELETE FROM dead_letters WHERE source = 'topic'");
    await q.query('DROP INDEX dead_letters_once_per_record');
    await q.query('DROP INDEX dead_letters_once');
    await q.query(`
      ALTER TABLE dead_letters
        ADD CONSTRAINT dead_letters_once UNIQUE NULLS NOT DISTINCT (queue, message_id, last_failed_at),
        DROP CONSTRAINT dead_letters_topic_origin,
        DROP COLUMN source, DROP COLUMN topic, DROP COLUMN consumer_group, DROP COLUMN original_partition,
        DROP COLUMN original_offset, DROP COLUMN record_key, DROP COLUMN record_headers, DROP COLUMN body_omitted_bytes`);
  }
}
