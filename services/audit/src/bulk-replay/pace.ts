import { fingerprintOfLetter, type GroupableDeadLetter } from '../inspect-dead-letters/dead-letter-groups.js';

/**
 * When the next message of a run may go out at `perSecond` messages a second: at once for the first, else no sooner
 * than 1/perSecond after the previous one was sent. Slow sends make the run slower, never faster: there is no
 * catching up in a burst after a stall. Pure.
 */
export function nextSendAt(previousSentAt: number | undefined, now: number, perSecond: number): number {
  if (previousSentAt === undefined) return now;
  return Math.max(now, previousSentAt + 1_000 / perSecond);
}

/** The warning of a bulk replay: dead letters of its groups that arrived since it started. */
export interface NewFailures {
  /** New dead letters with a fingerprint of the run's letters, since the run started. */
  count: number;
  /** Of them, messages this run replayed that failed again (the fix did not hold). */
  cameBack: number;
  /** Their ids, newest first (at most 20). */
  latestIds: number[];
}

/**
 * Counts the dead letters of `arrived` (those stored after the run started) whose fingerprint is one of the run's;
 * a dead letter of a message the run replayed (`replayedMessageIds`) is counted as come back as well. Pure.
 */
export function newFailuresOf(
  arrived: readonly GroupableDeadLetter[],
  fingerprints: ReadonlySet<string>,
  replayedMessageIds: ReadonlySet<string>,
): NewFailures {
  const same = arrived.filter((letter) => fingerprints.has(fingerprintOfLetter(letter))).sort((a, b) => b.id - a.id);
  return {
    count: same.length,
    cameBack: same.filter((letter) => letter.messageId !== undefined && replayedMessageIds.has(letter.messageId))
      .length,
    latestIds: same.slice(0, 20).map((letter) => letter.id),
  };
}
