/**
 * Pattern: resetting a consumer group's position, and what that means for what the group did. The pure half: where
 * a reset would move each partition, how many records that re-reads or skips, and whether the group may go there
 * (consumer-group-positions.ts asks Kafka and the database, and does it).
 *
 * A position is the next offset a group reads on a partition. Moving it back makes the group read records again;
 * moving it forward makes it skip records. What that does depends on the group:
 *
 * - an idempotent consumer (an inbox keyed by message id: audit, order-notifications): a record read again finds
 *   its inbox row and does nothing, so any position is safe; skipped records are never handled;
 * - a read model with its positions in its own database (analytics' projections): it cannot take back part of what
 *   it counted, so it moves back only to the start, and then it is emptied with its positions in one transaction
 *   (a rebuild); forward, it keeps what it has and never counts the skipped records;
 * - a consumer whose output cannot be taken back (the exactly-once loop's sums in `order-metrics`): forward only.
 */

/** Where to move a group: the log's start, its end, or the first record at or after a time. */
export type ResetTarget = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'time'; at: number; iso: string };

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** The reset's `to`: `earliest`, `latest` or an ISO 8601 time with its zone; a RangeError names what is wrong. */
export function parseResetTarget(raw: unknown): ResetTarget {
  if (raw === 'earliest' || raw === 'latest') return { kind: raw };
  const match = typeof raw === 'string' && raw.length <= 40 ? ISO_TIME.exec(raw) : null;
  if (typeof raw === 'string' && match) {
    const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = match
      .slice(1, 7)
      .map((n) => Number(n ?? 0));
    const calendar = new Date(Date.UTC(year, month - 1, day));
    const real =
      calendar.getUTCFullYear() === year &&
      calendar.getUTCMonth() === month - 1 &&
      calendar.getUTCDate() === day &&
      hour < 24 &&
      minute < 60 &&
      second < 60;
    const at = Date.parse(raw);
    if (real && Number.isFinite(at) && at >= 0) return { kind: 'time', at, iso: new Date(at).toISOString() };
  }
  throw new RangeError(
    'to must be earliest, latest, or an ISO 8601 time with its zone (for example 2026-12-03T04:00:00Z)',
  );
}

/** The reset's `to` as the routes and the log show it. */
export function describeTarget(target: ResetTarget): string {
  return target.kind === 'time' ? target.iso : target.kind;
}

/** How the records a reset makes a group read again (or skip) are handled: see the file's comment. */
export type GroupKind = 'idempotent' | 'read-model' | 'no-rewind';

/** One partition of a topic the group reads, where it is and where the reset would put it. */
export interface PartitionPlan {
  topic: string;
  partition: number;
  /** The partition's first offset still in the log, and the offset the next record will get. */
  low: number;
  high: number;
  /** The group's stored position (Kafka's committed offset, or the database's), null when it has none. */
  stored: number | null;
  /** Where the group reads next: its stored position, or where it starts without one. */
  current: number;
  target: number;
  /** Records the group reads again (target behind current) or skips (target ahead). */
  reRead: number;
  skip: number;
}

/** The plan for one partition: where the group is now, where it goes, and what that re-reads or skips. */
export function planPartition(
  at: { topic: string; partition: number; low: number; high: number },
  stored: number | null,
  fromBeginning: boolean,
  target: number,
): PartitionPlan {
  // Without a position (or with one the log no longer holds), a group starts at the log's start or its end.
  const start = fromBeginning ? at.low : at.high;
  const current = stored === null || stored < at.low || stored > at.high ? start : stored;
  const to = Math.min(Math.max(target, at.low), at.high);
  return {
    ...at,
    stored,
    current,
    target: to,
    reRead: Math.max(0, current - to),
    skip: Math.max(0, to - current),
  };
}

/** What a reset does to a group's positions: nothing, move them, or empty the read model with them (a rebuild). */
export type ResetMode = 'none' | 'move' | 'rebuild';

export function resetMode(kind: GroupKind, partitions: readonly PartitionPlan[]): ResetMode {
  const back = partitions.some((p) => p.target < p.current);
  if (kind === 'read-model' && back) return 'rebuild';
  return partitions.some((p) => p.target !== p.current) ? 'move' : 'none';
}

/**
 * Why the group may not be moved there whatever its state (undefined when it may): a read model goes back only to
 * the log's start on every partition (emptied, then rebuilt), and a consumer whose output cannot be taken back never
 * goes back.
 */
export function policyRefusal(
  kind: GroupKind,
  partitions: readonly PartitionPlan[],
  why: { noRewind?: string; canEmpty: boolean },
): string | undefined {
  const back = partitions.filter((p) => p.target < p.current);
  if (back.length === 0 || kind === 'idempotent') return undefined;
  if (kind === 'no-rewind') {
    return `this group never moves back (${why.noRewind ?? 'its output cannot be taken back'}); only a reset forward (records skipped) is allowed`;
  }
  if (!why.canEmpty) {
    return 'this read model has no way to be emptied, so it cannot move back: records read again would be counted twice';
  }
  const notAtStart = partitions.filter((p) => p.target !== p.low);
  if (notAtStart.length > 0) {
    const p = notAtStart[0]!;
    return (
      'a read model cannot take back part of what it counted: it moves back only to the start of the log on every ' +
      `partition (earliest: emptied, then rebuilt), or forward (records skipped); ${p.topic} partition ${p.partition} ` +
      `would go to ${p.target}, not to its start ${p.low}`
    );
  }
  return undefined;
}

/** Whether Kafka says nobody consumes in the group: no member (Empty), or no group at all (Dead). */
export function groupStopped(state: string): boolean {
  return state === 'Empty' || state === 'Dead';
}

/** Why a reset is refused while the group runs (undefined when it is stopped). */
export function runningRefusal(group: string, state: string, members: number): string | undefined {
  if (groupStopped(state)) return undefined;
  return (
    `consumer group ${group} is not stopped: Kafka says ${state} with ${members} member${members === 1 ? '' : 's'}; ` +
    "stop its consumers first (the service's stop-consumers fault, or stop the process), then preview again"
  );
}

/** What the reset means for this group, in a sentence the page shows beside the numbers. */
export function resetMeaning(kind: GroupKind, mode: ResetMode, readModel: string | undefined): string {
  if (mode === 'none') return 'The group is already there: nothing would change.';
  switch (kind) {
    case 'idempotent':
      return (
        'Records read again reach the consumer again, and its inbox (processed_messages, by message id) makes each ' +
        'a no-op: nothing happens twice. Records skipped are never handled.'
      );
    case 'read-model':
      return mode === 'rebuild'
        ? `The read model (${readModel ?? 'its tables'}) is emptied with its positions in one transaction and ` +
            'rebuilt from the start of the log when the group runs again: every record is counted once, never twice.'
        : 'The positions move forward: the read model keeps what it has and never counts the skipped records.';
    case 'no-rewind':
      return 'The positions move forward: the skipped records are never counted.';
  }
}

/** "N records will be re-read, M skipped", over every partition. */
export function resetSummary(partitions: readonly PartitionPlan[]): { reRead: number; skip: number; text: string } {
  const reRead = partitions.reduce((n, p) => n + p.reRead, 0);
  const skip = partitions.reduce((n, p) => n + p.skip, 0);
  const records = (n: number) => `${n} record${n === 1 ? '' : 's'}`;
  const parts = [
    ...(reRead > 0 ? [`${records(reRead)} will be re-read`] : []),
    ...(skip > 0 ? [`${records(skip)} will be skipped`] : []),
  ];
  return { reRead, skip, text: parts.length ? parts.join(', ') : 'no record will be re-read or skipped' };
}
