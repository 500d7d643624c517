import { describe, expect, it } from 'vitest';
import { changedPaths } from '../replay-dead-letter/replay-dead-letter.controller.js';
import { failureOf, fingerprintOf, groupDeadLetters, type GroupableDeadLetter } from './dead-letter-groups.js';

const letter = (id: number, reason: string, extra: Partial<GroupableDeadLetter> = {}): GroupableDeadLetter => ({
  id,
  where: 'order-processing-dlq',
  messageType: 'order.place',
  reason,
  receivedAt: new Date(Date.UTC(2030, 0, 1, 0, 0, id)),
  replayed: false,
  cameBack: false,
  ...extra,
});

describe('dead letters grouped by failure fingerprint', () => {
  it('takes the particulars out of a reason: ids, numbers, quoted values, all but the first line', () => {
    expect(
      failureOf('Error: no stock for "BOOK-1" in order 7f3c2a10-1111-4222-8333-444455556666, wanted 3\n    at x.js:10'),
    ).toBe('Error: no stock for "…" in order <id>, wanted <n>');
  });

  it('groups the same failure in the same place, and keeps places and types apart', () => {
    const same = fingerprintOf('q-dlq', 'order.place', 'Error: wanted 3');
    expect(fingerprintOf('q-dlq', 'order.place', 'Error: wanted 4')).toBe(same);
    expect(fingerprintOf('other-dlq', 'order.place', 'Error: wanted 3')).not.toBe(same);
    expect(fingerprintOf('q-dlq', 'payment.process', 'Error: wanted 3')).not.toBe(same);
  });

  it('counts each group, what waits and what came back, first and last seen, newest group and ids first', () => {
    const groups = groupDeadLetters([
      letter(1, 'InvalidMessageError: data.total: expected number'),
      letter(2, 'Error: sku "A" unknown', { replayed: true, cameBack: true }),
      letter(3, 'InvalidMessageError: data.total: expected number', { replayed: true }),
      letter(4, 'Error: sku "B" unknown'),
    ]);
    expect(groups.map((g) => [g.reason, g.count, g.waiting, g.cameBack, g.ids])).toEqual([
      ['Error: sku "…" unknown', 2, 1, 1, [4, 2]],
      ['InvalidMessageError: data.total: expected number', 2, 1, 0, [3, 1]],
    ]);
    expect(groups[0]).toMatchObject({ firstSeen: '2030-01-01T00:00:02.000Z', lastSeen: '2030-01-01T00:00:04.000Z' });
  });
});

describe('what an edited replay changes', () => {
  it('names the paths that differ, and nothing when nothing does', () => {
    const before = { messageId: 'm', data: { total: 'ten', items: [1] } };
    expect(changedPaths(before, { messageId: 'm', data: { total: 10, items: [1] } })).toEqual(['data.total']);
    expect(changedPaths(before, { messageId: 'm', data: { total: 'ten', items: [1, 2], note: 'x' } })).toEqual([
      'data.items',
      'data.note',
    ]);
    expect(changedPaths(before, structuredClone(before))).toEqual([]);
  });
});
