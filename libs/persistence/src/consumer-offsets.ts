import type { EntityManager, MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pattern: offsets kept with the data. A Kafka consumer whose effects are rows in this database stores its group's
 * position (the next offset to read, per partition) in the same transaction as the effects of the records before
 * it. Commit and position then cannot disagree: after a crash, a rebalance or a redelivery, the records below the
 * stored position are skipped, and each record has its effect exactly once without a per-record inbox row.
 * Kafka's own committed offsets are still written, after the transaction, as a hint (lag metrics, a fast start);
 * the table is the truth.
 */
export class ConsumerOffsets1764400000020 implements MigrationInterface {
  name = 'ConsumerOffsets1764400000020';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE consumer_offsets (
        group_id    text NOT NULL,
        topic       text NOT NULL,
        partition   integer NOT NULL,
        next_offset bigint NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, topic, partition)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE consumer_offsets');
  }
}

/**
 * Which Kafka log a group's stored positions belong to: the cluster's id. Positions are only meaningful in the log
 * they were read from; a database that outlives its Kafka (a broker's storage formatted again, a second checkout's
 * Kafka on the same machine, a restored backup) holds positions and a read model of a log that no longer exists.
 */
export class ConsumerOffsetLogs1764400000030 implements MigrationInterface {
  name = 'ConsumerOffsetLogs1764400000030';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE consumer_offset_logs (
        group_id   text PRIMARY KEY,
        cluster_id text NOT NULL,
        checked_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE consumer_offset_logs');
  }
}

export interface PartitionPosition {
  groupId: string;
  topic: string;
  partition: number;
}

/**
 * The stored position of a partition, locked until the caller's transaction ends: a second member that got the
 * same partition in a rebalance waits here, then sees the position the first one stored. Undefined for a partition
 * this group has never stored (the caller starts where Kafka put it).
 */
export async function lockConsumerOffset(manager: EntityManager, at: PartitionPosition): Promise<bigint | undefined> {
  // The row is made first (at -1: "nothing stored") so that there is a row to lock even on the first batch.
  await manager.query(
    `INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, -1)
     ON CONFLICT DO NOTHING`,
    [at.groupId, at.topic, at.partition],
  );
  const rows: { next_offset: string }[] = await manager.query(
    `SELECT next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3 FOR UPDATE`,
    [at.groupId, at.topic, at.partition],
  );
  const stored = BigInt(rows[0]?.next_offset ?? '-1');
  return stored < 0n ? undefined : stored;
}

/** Stores the next offset to read, in the caller's transaction (the one that applied the records before it). */
export async function storeConsumerOffset(
  manager: EntityManager,
  at: PartitionPosition,
  nextOffset: bigint,
): Promise<void> {
  await manager.query(
    `UPDATE consumer_offsets SET next_offset = $4, updated_at = now()
     WHERE group_id = $1 AND topic = $2 AND partition = $3`,
    [at.groupId, at.topic, at.partition, nextOffset.toString()],
  );
}
