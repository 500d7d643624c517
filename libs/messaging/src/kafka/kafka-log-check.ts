import type { DataSource, EntityManager } from 'typeorm';
import type { MessagingLogger } from '../logger.js';
import type { KafkaClient } from './kafka-client.js';

/** What the broker says about the log a group reads: the cluster, and each partition's first and next offsets. */
export interface KafkaLogFacts {
  clusterId: string;
  partitions: { partition: number; low: bigint; high: bigint }[];
}

/** Why the stored positions are not positions in this log, or undefined when they are (or none are stored). */
export function foreignLogReason(
  facts: KafkaLogFacts,
  storedClusterId: string | undefined,
  stored: readonly { partition: number; nextOffset: bigint }[],
): string | undefined {
  if (storedClusterId !== undefined && storedClusterId !== facts.clusterId) {
    return `the positions were stored for Kafka cluster ${storedClusterId}, and this is cluster ${facts.clusterId}`;
  }
  for (const { partition, nextOffset } of stored) {
    const log = facts.partitions.find((p) => p.partition === partition);
    if (!log) return `partition ${partition} has a stored position and does not exist in this log`;
    // A stored position is one past a record that was read: it can never be beyond the log's end.
    if (nextOffset > log.high) {
      return `partition ${partition}: the stored position ${nextOffset} is past the log's end ${log.high}`;
    }
  }
  return undefined;
}

export async function readKafkaLogFacts(client: KafkaClient, topic: string): Promise<KafkaLogFacts> {
  const admin = client.admin();
  await admin.connect();
  try {
    const { clusterId } = await admin.describeCluster();
    const offsets = await admin.fetchTopicOffsets(client.name(topic));
    return {
      clusterId,
      partitions: offsets.map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) })),
    };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Pattern: a read model is derived data. Before a group with offsets kept in the database starts, check that the
 * stored positions belong to the log it is about to read. When they do not (another cluster, or positions past the
 * log's end), the read model is of a log that is gone: `reset` empties it in the same transaction as the positions,
 * which restart at each partition's first offset, so the group rebuilds the model from this log. Without a `reset`
 * the group refuses to start rather than skip records it never read.
 */
export async function checkStoredPositions(
  dataSource: DataSource,
  facts: KafkaLogFacts,
  at: { groupId: string; topic: string },
  reset: ((manager: EntityManager) => Promise<void>) | undefined,
  logger: MessagingLogger,
  /** Other topics the group reads (its replay topic): their positions are checked, and restarted, with the main's. */
  alsoReads: readonly { topic: string; facts: KafkaLogFacts }[] = [],
): Promise<'checked' | 'reset'> {
  return dataSource.transaction(async (manager) => {
    // One member at a time: a second member starting beside this one waits here and then finds the log recorded.
    await manager.query(
      `INSERT INTO consumer_offset_logs (group_id, cluster_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [at.groupId, facts.clusterId],
    );
    const [log] = await manager.query<{ cluster_id: string }[]>(
      'SELECT cluster_id FROM consumer_offset_logs WHERE group_id = $1 FOR UPDATE',
      [at.groupId],
    );
    const rows = await manager.query<{ partition: number; next_offset: string }[]>(
      `SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2 AND next_offset >= 0`,
      [at.groupId, at.topic],
    );
    const stored = rows.map((r) => ({ partition: r.partition, nextOffset: BigInt(r.next_offset) }));
    let reason = foreignLogReason(facts, log?.cluster_id, stored);
    for (const other of alsoReads) {
      if (reason !== undefined) break;
      const otherRows = await manager.query<{ partition: number; next_offset: string }[]>(
        `SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2 AND next_offset >= 0`,
        [at.groupId, other.topic],
      );
      const otherStored = otherRows.map((r) => ({ partition: r.partition, nextOffset: BigInt(r.next_offset) }));
      const why = foreignLogReason(other.facts, undefined, otherStored);
      if (why !== undefined) reason = `${other.topic}: ${why}`;
    }
    if (reason === undefined) {
      await manager.query('UPDATE consumer_offset_logs SET checked_at = now() WHERE group_id = $1', [at.groupId]);
      return 'checked';
    }
    if (!reset) {
      throw new Error(`kafka: group ${at.groupId} on ${at.topic}: ${reason}, and its read model cannot be reset`);
    }
    logger.warn(
      { topic: at.topic, groupId: at.groupId, reason },
      'kafka: the stored positions belong to another log; emptying the read model and reading this log from its start',
    );
    await reset(manager);
    await manager.query('DELETE FROM consumer_offsets WHERE group_id = $1', [at.groupId]);
    for (const log of [{ topic: at.topic, facts }, ...alsoReads]) {
      for (const p of log.facts.partitions) {
        await manager.query(
          `INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4)`,
          [at.groupId, log.topic, p.partition, p.low.toString()],
        );
      }
    }
    await manager.query('UPDATE consumer_offset_logs SET cluster_id = $2, checked_at = now() WHERE group_id = $1', [
      at.groupId,
      facts.clusterId,
    ]);
    return 'reset';
  });
}
