import { describe, expect, it } from 'vitest';
import {
  groupStopped,
  parseResetTarget,
  planPartition,
  policyRefusal,
  resetMeaning,
  resetMode,
  resetSummary,
  runningRefusal,
  type PartitionPlan,
} from './offset-reset.js';
import { resettableGroups } from './consumer-group-positions.js';
import { defineKafkaSubscription } from './kafka-subscription.js';
import { Topics } from '../topology.js';
import { MessageCatalog } from '@am/contracts';

const at = (partition: number, low: number, high: number) => ({ topic: 'order-events', partition, low, high });

describe('the target of a reset', () => {
  it('takes earliest, latest, and an ISO time with its zone', () => {
    expect(parseResetTarget('earliest')).toEqual({ kind: 'earliest' });
    expect(parseResetTarget('latest')).toEqual({ kind: 'latest' });
    expect(parseResetTarget('2026-12-03T04:05:06Z')).toEqual({
      kind: 'time',
      at: Date.UTC(2026, 11, 3, 4, 5, 6),
      iso: '2026-12-03T04:05:06.000Z',
    });
    expect(parseResetTarget('2026-12-03T05:05:06.250+01:00')).toMatchObject({ iso: '2026-12-03T04:05:06.250Z' });
  });

  it('refuses anything else with the reason', () => {
    for (const raw of [
      undefined,
      '',
      'EARLIEST',
      'yesterday',
      '2026-12-03',
      '2026-12-03T04:05:06',
      '2026-02-30T00:00:00Z',
      '2026-12-03T24:00:00Z',
      '2026-12-03T04:60:00Z',
      '1e309',
      42,
      ['earliest'],
      `2026-12-03T04:05:06${'0'.repeat(40)}Z`,
    ]) {
      expect(() => parseResetTarget(raw), String(raw)).toThrow(/earliest, latest, or an ISO 8601 time/);
    }
  });
});

describe('the plan of one partition', () => {
  it('counts the records read again behind the position, and skipped ahead of it', () => {
    expect(planPartition(at(0, 0, 100), 80, true, 0)).toMatchObject({ current: 80, target: 0, reRead: 80, skip: 0 });
    expect(planPartition(at(0, 0, 100), 80, true, 100)).toMatchObject({ reRead: 0, skip: 20 });
    expect(planPartition(at(0, 10, 100), 80, true, 60)).toMatchObject({ reRead: 20, skip: 0 });
    expect(planPartition(at(0, 0, 100), 100, true, 100)).toMatchObject({ reRead: 0, skip: 0 });
  });

  it('starts a group without a position where it would start: the log start, or its end', () => {
    expect(planPartition(at(0, 5, 100), null, true, 100)).toMatchObject({ current: 5, skip: 95 });
    expect(planPartition(at(0, 5, 100), null, false, 5)).toMatchObject({ current: 100, reRead: 95 });
    // A position the log no longer holds (deleted by retention) counts as none.
    expect(planPartition(at(0, 50, 100), 20, true, 50)).toMatchObject({ current: 50, reRead: 0 });
  });

  it('keeps the target inside the log', () => {
    expect(planPartition(at(0, 10, 100), 50, true, 0).target).toBe(10);
    expect(planPartition(at(0, 10, 100), 50, true, 1_000).target).toBe(100);
  });
});

const plans = (...parts: [number, number, number, number][]): PartitionPlan[] =>
  parts.map(([low, high, current, target], partition) =>
    planPartition(at(partition, low, high), current, true, target),
  );

describe('what a group may do', () => {
  it('lets an idempotent consumer go anywhere', () => {
    expect(policyRefusal('idempotent', plans([0, 10, 10, 3], [0, 10, 4, 10]), { canEmpty: false })).toBeUndefined();
    expect(resetMode('idempotent', plans([0, 10, 10, 3]))).toBe('move');
  });

  it('moves a read model back only to the start of every partition, where it is emptied and rebuilt', () => {
    const toStart = plans([0, 10, 10, 0], [2, 8, 8, 2]);
    expect(policyRefusal('read-model', toStart, { canEmpty: true })).toBeUndefined();
    expect(resetMode('read-model', toStart)).toBe('rebuild');
    const partly = plans([0, 10, 10, 0], [0, 8, 8, 5]);
    expect(policyRefusal('read-model', partly, { canEmpty: true })).toMatch(
      /cannot take back part of what it counted.*partition 1 would go to 5, not to its start 0/,
    );
    expect(policyRefusal('read-model', toStart, { canEmpty: false })).toMatch(/no way to be emptied/);
  });

  it('moves a read model forward without emptying it', () => {
    const forward = plans([0, 10, 4, 10], [0, 8, 8, 8]);
    expect(policyRefusal('read-model', forward, { canEmpty: true })).toBeUndefined();
    expect(resetMode('read-model', forward)).toBe('move');
    expect(resetMode('read-model', plans([0, 10, 10, 10]))).toBe('none');
  });

  it('never moves back a group whose output cannot be taken back', () => {
    expect(policyRefusal('no-rewind', plans([0, 10, 10, 0]), { noRewind: 'sums', canEmpty: false })).toMatch(
      /never moves back \(sums\)/,
    );
    expect(policyRefusal('no-rewind', plans([0, 10, 5, 10]), { canEmpty: false })).toBeUndefined();
  });

  it('is stopped only when Kafka says it has no member', () => {
    expect(groupStopped('Empty')).toBe(true);
    expect(groupStopped('Dead')).toBe(true);
    for (const state of ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Unknown']) {
      expect(groupStopped(state)).toBe(false);
    }
    expect(runningRefusal('audit', 'Empty', 0)).toBeUndefined();
    expect(runningRefusal('audit', 'Stable', 2)).toMatch(/audit is not stopped: Kafka says Stable with 2 members/);
  });

  it('says what it means and how many records', () => {
    expect(resetSummary(plans([0, 10, 10, 0], [0, 5, 2, 5]))).toEqual({
      reRead: 10,
      skip: 3,
      text: '10 records will be re-read, 3 records will be skipped',
    });
    expect(resetSummary(plans([0, 1, 1, 0])).text).toBe('1 record will be re-read');
    expect(resetSummary(plans([0, 1, 1, 1])).text).toBe('no record will be re-read or skipped');
    expect(resetMeaning('idempotent', 'move', undefined)).toMatch(/inbox/);
    expect(resetMeaning('read-model', 'rebuild', 'order_stats')).toMatch(/order_stats\) is emptied/);
    expect(resetMeaning('read-model', 'none', 'order_stats')).toMatch(/nothing would change/);
  });
});

describe("a service's groups, from the topology", () => {
  const catalog = new MessageCatalog([]);
  it('gives analytics its read models (positions in its database), the loop that never rewinds, and their topics', () => {
    const groups = resettableGroups('analytics', {
      subscriptions: [],
      projections: [
        {
          subscription: defineKafkaSubscription({ topic: Topics.orderEvents, groupId: 'analytics' }),
          catalog,
          project: async () => undefined,
          reset: async () => undefined,
          readModel: 'order_stats',
        },
      ],
      noRewind: [{ groupId: 'order-metrics', why: 'sums' }],
    });
    expect(groups.map((g) => [g.groupId, g.positions, g.kind, g.topics.map((t) => t.topic)])).toEqual([
      ['analytics', 'database', 'read-model', ['order-events', 'order-events.replay.analytics']],
      ['order-metrics', 'kafka', 'no-rewind', ['order-events']],
      ['analytics-accounts', 'kafka', 'idempotent', ['account-events']],
    ]);
    expect(groups[0]!.note).toBe('order_stats');
  });

  it('starts a group where its subscription says, and every replay topic at its first record', () => {
    const [group] = resettableGroups('email', {
      subscriptions: [
        defineKafkaSubscription({ topic: Topics.orderEvents, groupId: 'order-notifications', fromBeginning: false }),
      ],
      projections: [],
      noRewind: [],
    });
    expect(group!.topics).toEqual([
      { topic: 'order-events', fromBeginning: false },
      { topic: 'order-events.replay.order-notifications', fromBeginning: true },
    ]);
    expect(resettableGroups('inventory', { subscriptions: [], projections: [], noRewind: [] })).toEqual([]);
  });
});
