import { describe, expect, it } from 'vitest';
import { fingerprintOfLetter, type GroupableDeadLetter } from '../inspect-dead-letters/dead-letter-groups.js';
import { newFailuresOf, nextSendAt } from './pace.js';
import { StartReplayRunRequest } from './replay-run.request.js';

describe('the pace of a bulk replay', () => {
  it('sends the first at once and each next one no sooner than 1/rate after the previous', () => {
    expect(nextSendAt(undefined, 1_000, 5)).toBe(1_000);
    expect(nextSendAt(1_000, 1_010, 5)).toBe(1_200);
    expect(nextSendAt(1_000, 1_010, 200)).toBe(1_010);
  });

  it('does not catch up in a burst after a slow send', () => {
    // The previous send took 900 ms at 5/s: the next goes now, and the one after waits its full 200 ms again.
    const next = nextSendAt(1_000, 1_900, 5);
    expect(next).toBe(1_900);
    expect(nextSendAt(next, next + 1, 5)).toBe(2_100);
  });

  it('keeps the rate over a whole run: 10 letters at 5/s span 1.8 s', () => {
    let at: number | undefined;
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      at = nextSendAt(at, at ?? 0, 5);
      times.push(at);
    }
    expect(times.at(-1)! - times[0]!).toBe(1_800);
  });
});

describe('the new failures of a bulk replay', () => {
  const letter = (id: number, reason: string, messageId: string): GroupableDeadLetter => ({
    id,
    where: 'order-processing-dlq',
    messageType: 'order.place',
    messageId,
    reason,
    receivedAt: new Date(),
    replayed: false,
    cameBack: false,
  });

  it("counts the arrivals of the run's groups only, and tells the replayed messages that failed again", () => {
    const group = fingerprintOfLetter(letter(1, 'Error: user 42 not found', 'a'));
    const arrived = [
      letter(10, 'Error: user 43 not found', 'new'),
      letter(11, 'Error: user 42 not found', 'a'),
      letter(12, 'TypeError: something else', 'b'),
    ];
    expect(newFailuresOf(arrived, new Set([group]), new Set(['a']))).toEqual({
      count: 2,
      cameBack: 1,
      latestIds: [11, 10],
    });
    expect(newFailuresOf([], new Set([group]), new Set())).toEqual({ count: 0, cameBack: 0, latestIds: [] });
  });
});

describe('the request of a bulk replay', () => {
  it('takes ids or a group, and a rate of 1 to 200 a second', () => {
    expect(StartReplayRunRequest.parse({ ids: ['3', 4], perSecond: 5 })).toEqual({ ids: ['3', '4'], perSecond: 5 });
    expect(StartReplayRunRequest.parse({ groupId: '0123456789ab', perSecond: 200, dryRun: true })).toMatchObject({
      groupId: '0123456789ab',
    });
    for (const bad of [
      { perSecond: 5 },
      { ids: ['1'], groupId: '0123456789ab', perSecond: 5 },
      { ids: [], perSecond: 5 },
      { ids: ['0'], perSecond: 5 },
      { ids: ['1e3'], perSecond: 5 },
      { ids: ['1'], perSecond: 0 },
      { ids: ['1'], perSecond: 201 },
      { ids: ['1'], perSecond: 2.5 },
      { ids: ['1'], perSecond: '5' },
      { groupId: 'XYZ', perSecond: 5 },
      { ids: ['1'], perSecond: 5, extra: 1 },
    ]) {
      expect(StartReplayRunRequest.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
