import type { Admin } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import { topics, type ServiceName } from '../topology.js';
import type { KafkaClient } from './kafka-client.js';
import type { KafkaProjection } from './kafka-projection-consumer.js';
import type { KafkaSubscription } from './kafka-subscription.js';
import {
  describeTarget,
  parseResetTarget as parseTarget,
  groupStopped,
  planPartition,
  policyRefusal,
  resetMeaning,
  resetMode,
  resetSummary,
  runningRefusal,
  type GroupKind,
  type PartitionPlan,
  type ResetMode,
  type ResetTarget,
} from './offset-reset.js';

/** One of a service's consumer groups, as far as a reset is concerned. Names are unprefixed. */
export interface ResettableGroup {
  groupId: string;
  /** The topics the group reads (its topic and its replay topic), and where it starts on each without a position. */
  topics: { topic: string; fromBeginning: boolean }[];
  /** Where the group's positions live: Kafka's committed offsets, or the service's database (`consumer_offsets`). */
  positions: 'kafka' | 'database';
  kind: GroupKind;
  /** What a rebuild empties (a read model), or why the group never moves back (no-rewind). */
  note?: string;
  /** Empties the read model, in the caller's transaction (a read model's `KafkaProjection.reset`). */
  empty?: (manager: EntityManager) => Promise<void>;
}

/**
 * The consumer groups the topology gives `service`, each with the topics it reads: the database keeps the positions
 * of the groups that are `projections` (offsets kept with the data), `noRewind` names the groups whose output
 * cannot be taken back, and the others are idempotent consumers (the inbox).
 */
export function resettableGroups(
  service: ServiceName,
  definition: {
    subscriptions: readonly KafkaSubscription[];
    projections: readonly KafkaProjection[];
    noRewind: readonly { groupId: string; why: string }[];
  },
): ResettableGroup[] {
  const groups = new Map<string, ResettableGroup>();
  for (const topic of topics) {
    for (const { groupId, consumer } of topic.groups) {
      if (consumer !== service) continue;
      const main = definition.subscriptions.find((s) => s.groupId === groupId && s.topic === topic.name);
      // A replay topic holds only what an operator replayed: every group reads it from its first record.
      const replay = definition.subscriptions.some((s) => s.groupId === groupId && s.replayTopic === topic.name);
      const projection = definition.projections.find((p) => p.subscription.groupId === groupId);
      const noRewind = definition.noRewind.find((n) => n.groupId === groupId);
      const group = groups.get(groupId) ?? {
        groupId,
        topics: [],
        ...(projection
          ? {
              positions: 'database' as const,
              kind: 'read-model' as const,
              ...(projection.readModel ? { note: projection.readModel } : {}),
              ...(projection.reset ? { empty: projection.reset } : {}),
            }
          : noRewind
            ? { positions: 'kafka' as const, kind: 'no-rewind' as const, note: noRewind.why }
            : { positions: 'kafka' as const, kind: 'idempotent' as const }),
      };
      group.topics.push({ topic: topic.name, fromBeginning: replay || (main?.fromBeginning ?? true) });
      groups.set(groupId, group);
    }
  }
  return [...groups.values()];
}

/** A group as the list shows it: what it reads, where its positions live, and whether Kafka says it runs. */
export interface GroupState {
  group: string;
  topics: string[];
  positions: 'kafka' | 'database';
  kind: GroupKind;
  state: string;
  members: number;
  stopped: boolean;
}

/** A preview: each partition's position and target, the totals, what it means, and why it would be refused. */
export interface ResetPreview extends GroupState {
  service: ServiceName;
  to: string;
  mode: ResetMode;
  partitions: (PartitionPlan & { kafkaCommitted?: number | null })[];
  reRead: number;
  skip: number;
  summary: string;
  meaning: string;
  /** Why `POST .../reset` would answer 409 now; absent when it would reset. */
  refusal?: string;
}

/** The outcome of a reset: the preview it carried out, who, and where the positions are now. */
export interface ResetOutcome extends ResetPreview {
  by: string;
  at: string;
  /** For a group with its positions in the database: whether Kafka's committed offsets (a hint) followed. */
  kafkaHint?: string;
}

export class UnknownGroupError extends Error {
  override name = 'UnknownGroupError';
}

/** A reset that may not happen now: the group runs, the read model cannot go there, or the positions moved. */
export class ResetRefusedError extends Error {
  override name = 'ResetRefusedError';
  constructor(
    message: string,
    readonly preview: ResetPreview,
  ) {
    super(message);
  }
}

/**
 * A service's consumer groups seen from Kafka and its database, and their reset (offset-reset.ts says what a reset
 * means for each kind of group). Uses only what the service's own Kafka principal may do on its own groups (read on
 * the group and its topics, which implies describe): describe the group, list the topics' offsets, fetch and commit
 * the group's offsets. A reset needs the group stopped: Kafka must say it has no member.
 */
export class ConsumerGroupPositions {
  constructor(
    private readonly service: ServiceName,
    private readonly client: KafkaClient,
    private readonly dataSource: DataSource,
    readonly groups: readonly ResettableGroup[],
  ) {}

  private group(groupId: string): ResettableGroup {
    const group = this.groups.find((g) => g.groupId === groupId);
    if (!group) {
      const names = this.groups.map((g) => g.groupId);
      throw new UnknownGroupError(
        `${this.service} has no consumer group ${JSON.stringify(groupId)}` +
          (names.length ? `; its groups: ${names.join(', ')}` : '; it consumes no Kafka topic'),
      );
    }
    return group;
  }

  private async withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = this.client.admin();
    await admin.connect();
    try {
      return await work(admin);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async describe(admin: Admin, group: ResettableGroup): Promise<GroupState> {
    const { groups } = await admin.describeGroups([this.client.name(group.groupId)]);
    const state = groups[0]?.state ?? 'Dead';
    const members = groups[0]?.members.length ?? 0;
    return {
      group: group.groupId,
      topics: group.topics.map((t) => t.topic),
      positions: group.positions,
      kind: group.kind,
      state,
      members,
      stopped: groupStopped(state),
    };
  }

  /** Every group of the service with Kafka's word on whether it runs. */
  async list(): Promise<GroupState[]> {
    if (this.groups.length === 0) return [];
    return this.withAdmin((admin) => Promise.all(this.groups.map((g) => this.describe(admin, g))));
  }

  /** What resetting `groupId` to `target` would do, per partition, and whether it would be refused now. */
  async preview(groupId: string, target: ResetTarget): Promise<ResetPreview> {
    const group = this.group(groupId);
    return this.withAdmin((admin) => this.previewWith(admin, group, target));
  }

  private async previewWith(admin: Admin, group: ResettableGroup, target: ResetTarget): Promise<ResetPreview> {
    const state = await this.describe(admin, group);
    const groupName = this.client.name(group.groupId);
    const partitions: ResetPreview['partitions'] = [];
    for (const { topic, fromBeginning } of group.topics) {
      const name = this.client.name(topic);
      const [ends, committed, byTime, stored] = await Promise.all([
        admin.fetchTopicOffsets(name),
        admin.fetchOffsets({ groupId: groupName, topics: [name] }),
        target.kind === 'time' ? admin.fetchTopicOffsetsByTimestamp(name, target.at) : undefined,
        group.positions === 'database' ? this.storedPositions(this.dataSource.manager, groupName, name) : undefined,
      ]);
      const kafkaCommitted = new Map(
        committed
          .flatMap((t) => t.partitions)
          .map((p) => [p.partition, Number(p.offset) >= 0 ? Number(p.offset) : null]),
      );
      for (const end of [...ends].sort((a, b) => a.partition - b.partition)) {
        const low = Number(end.low);
        const high = Number(end.high);
        const to =
          target.kind === 'earliest'
            ? low
            : target.kind === 'latest'
              ? high
              : Number(byTime?.find((p) => p.partition === end.partition)?.offset ?? high);
        const own = stored ? (stored.get(end.partition) ?? null) : (kafkaCommitted.get(end.partition) ?? null);
        partitions.push({
          ...planPartition({ topic, partition: end.partition, low, high }, own, fromBeginning, to),
          ...(stored ? { kafkaCommitted: kafkaCommitted.get(end.partition) ?? null } : {}),
        });
      }
    }
    const mode = resetMode(group.kind, partitions);
    const totals = resetSummary(partitions);
    const refusal =
      policyRefusal(group.kind, partitions, { noRewind: group.note, canEmpty: group.empty !== undefined }) ??
      runningRefusal(group.groupId, state.state, state.members);
    return {
      service: this.service,
      ...state,
      to: describeTarget(target),
      mode,
      partitions,
      reRead: totals.reRead,
      skip: totals.skip,
      summary: totals.text,
      meaning: resetMeaning(group.kind, mode, group.note),
      ...(refusal ? { refusal } : {}),
    };
  }

  /** The database's positions of a group on a topic (names prefixed), partition → next offset; none stored: absent. */
  private async storedPositions(manager: EntityManager, group: string, topic: string): Promise<Map<number, number>> {
    const rows = await manager.query<{ partition: number; next_offset: string }[]>(
      `SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2 AND next_offset >= 0`,
      [group, topic],
    );
    return new Map(rows.map((r) => [r.partition, Number(r.next_offset)]));
  }

  /**
   * Resets `groupId` to `target`, refused (ResetRefusedError) unless Kafka says the group has no member and its kind
   * allows going there. The reset then joins the group itself, as its only member (checked once joined): while it is
   * in, no consumer of the group can be given a partition, so nothing consumes while the positions move. A group with
   * its positions in the database: in one transaction, under the same locks the projection takes (the group's log
   * row, then its position rows), the positions are checked against the preview's (a consumer that ran meanwhile:
   * refused), and either moved forward or, for a rebuild, the read model is emptied and every position restarts at
   * the log's start; then Kafka's committed offsets follow, as the hint they are. A group with its positions in Kafka:
   * its committed offsets are set. The reset's member then leaves the group.
   */
  async reset(
    groupId: string,
    target: ResetTarget,
    operator: string,
    /** Runs once the reset is allowed, before anything moves (the trail of operators' actions). */
    allowed: (preview: ResetPreview) => Promise<void> = async () => undefined,
  ): Promise<ResetOutcome> {
    const group = this.group(groupId);
    return this.withAdmin(async (admin) => {
      const preview = await this.previewWith(admin, group, target);
      if (preview.refusal) throw new ResetRefusedError(preview.refusal, preview);
      await allowed(preview);
      const outcome: ResetOutcome = { ...preview, by: operator, at: new Date().toISOString() };
      if (preview.mode === 'none') return outcome;
      await this.asOnlyMember(admin, group, preview, async (commit) => {
        if (group.positions === 'database') {
          const { clusterId } = await admin.describeCluster();
          await this.dataSource.transaction((manager) => this.moveStored(manager, group, preview, clusterId));
          try {
            await commit();
            outcome.kafkaHint = 'moved';
          } catch (error) {
            // The table decides where the group reads (it seeks there on every assignment); the hint is only a hint.
            outcome.kafkaHint = `not moved: ${(error as Error).message}`;
          }
        } else {
          try {
            await commit();
          } catch (error) {
            throw new ResetRefusedError(
              `the group's offsets could not be committed (${(error as Error).message}): nothing changed; preview again`,
              preview,
            );
          }
        }
      });
      return outcome;
    });
  }

  /**
   * Runs `work` while this process is the group's only member, with `commit` setting the group's committed offsets to
   * the preview's targets. Refused when another member is in the group once this one has joined.
   */
  private async asOnlyMember(
    admin: Admin,
    group: ResettableGroup,
    preview: ResetPreview,
    work: (commit: () => Promise<void>) => Promise<void>,
  ): Promise<void> {
    const groupName = this.client.name(group.groupId);
    const topics = group.topics.map((t) => this.client.name(t.topic));
    const consumer = this.client.kafka.consumer({
      groupId: groupName,
      sessionTimeout: 10_000,
      rebalanceTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
      retry: { retries: 1, restartOnFailure: async () => false },
    });
    try {
      const joined = new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the reset could not join the group within 20 s')), 20_000);
        consumer.on(consumer.events.GROUP_JOIN, (event) => {
          clearTimeout(timer);
          resolve(event.payload.memberId);
        });
        consumer.on(consumer.events.CRASH, (event) => {
          clearTimeout(timer);
          reject(event.payload.error);
        });
      });
      joined.catch(() => undefined);
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      // The reset's member handles nothing and commits nothing but the reset's offsets.
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => undefined });
      consumer.pause(topics.map((topic) => ({ topic })));
      const memberId = await joined;
      const { groups } = await admin.describeGroups([groupName]);
      const others = (groups[0]?.members ?? []).filter((m) => m.memberId !== memberId);
      if (others.length > 0) {
        const again = await this.previewWith(admin, group, parseTarget(preview.to));
        throw new ResetRefusedError(
          `consumer group ${group.groupId} is not stopped: ${others.length} other member${others.length === 1 ? '' : 's'} ` +
            'joined it while the reset was joining; stop its consumers, then preview again',
          again,
        );
      }
      await work(async () => {
        await consumer.commitOffsets(
          preview.partitions.map((p) => ({
            topic: this.client.name(p.topic),
            partition: p.partition,
            offset: String(p.target),
          })),
        );
        // kafkajs skips a commit silently when its member is no longer running: check what Kafka holds.
        const held = await admin.fetchOffsets({ groupId: groupName, topics });
        const offsets = new Map(
          held.flatMap((t) => t.partitions.map((p) => [`${t.topic}/${p.partition}`, Number(p.offset)] as const)),
        );
        const missed = preview.partitions.filter(
          (p) => offsets.get(`${this.client.name(p.topic)}/${p.partition}`) !== p.target,
        );
        if (missed.length > 0) {
          throw new Error(`Kafka does not hold the new offsets of ${missed.length} partition(s)`);
        }
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  }

  private async moveStored(
    manager: EntityManager,
    group: ResettableGroup,
    preview: ResetPreview,
    clusterId: string,
  ): Promise<void> {
    const groupName = this.client.name(group.groupId);
    // The same order of locks as the group's start-up check (kafka-log-check.ts) and its batches: the log row, then
    // the positions. A member starting meanwhile waits here, and then reads the positions this transaction stored.
    await manager.query(
      `INSERT INTO consumer_offset_logs (group_id, cluster_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [groupName, clusterId],
    );
    const [log] = await manager.query<{ cluster_id: string }[]>(
      'SELECT cluster_id FROM consumer_offset_logs WHERE group_id = $1 FOR UPDATE',
      [groupName],
    );
    await manager.query('SELECT 1 FROM consumer_offsets WHERE group_id = $1 FOR UPDATE', [groupName]);
    for (const { topic } of group.topics) {
      const now = await this.storedPositions(manager, groupName, this.client.name(topic));
      for (const p of preview.partitions.filter((x) => x.topic === topic)) {
        if ((now.get(p.partition) ?? null) !== p.stored) {
          throw new ResetRefusedError(
            `the stored position of ${topic} partition ${p.partition} moved since the preview ` +
              `(${p.stored ?? 'none'} → ${now.get(p.partition) ?? 'none'}): a consumer of the group ran; stop it and preview again`,
            preview,
          );
        }
      }
    }
    if (preview.mode === 'rebuild') {
      await group.empty!(manager);
      await manager.query('DELETE FROM consumer_offsets WHERE group_id = $1', [groupName]);
      await manager.query('UPDATE consumer_offset_logs SET cluster_id = $2, checked_at = now() WHERE group_id = $1', [
        groupName,
        clusterId,
      ]);
    } else if (log?.cluster_id !== clusterId) {
      throw new ResetRefusedError(
        `the stored positions belong to Kafka cluster ${log?.cluster_id}, and this is ${clusterId}: start the group ` +
          '(it rebuilds its read model from this log), or reset it to earliest',
        preview,
      );
    }
    for (const p of preview.partitions) {
      await manager.query(
        `INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
         ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()`,
        [groupName, this.client.name(p.topic), p.partition, String(p.target)],
      );
    }
  }
}
