import { createHash } from 'node:crypto';

/** A stored dead letter, as much of it as grouping needs. */
export interface GroupableDeadLetter {
  id: number;
  /** Where it failed: the dead letter queue, or the topic and consumer group. */
  where: string;
  messageType: string | null;
  /** The message's id: a bulk replay's warning tells a replayed message failing again from a new failure. */
  messageId?: string;
  reason: string;
  receivedAt: Date;
  replayed: boolean;
  cameBack: boolean;
}

/** Dead letters that failed the same way in the same place: one row of the workbench. */
export interface DeadLetterGroup {
  /** A short hash of where, the message type and the reason with its particulars taken out. */
  fingerprint: string;
  where: string;
  messageType: string | null;
  /** The reason with ids, numbers and quoted values replaced by placeholders. */
  reason: string;
  count: number;
  /** Not replayed yet. */
  waiting: number;
  /** Replayed, and the same message failed again. */
  cameBack: number;
  firstSeen: string;
  lastSeen: string;
  /** The newest ids of the group (up to 20), for inspecting and replaying. */
  ids: number[];
}

/**
 * The failure in a reason, without its particulars: the first line, with UUIDs, long hex strings, numbers and
 * quoted values replaced, so that "sku ABC out of stock for order 7f…" and the same for another order group together.
 */
export function failureOf(reason: string): string {
  return (reason.split('\n')[0] ?? '')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
    .replace(/\b[0-9a-f]{16,}\b/gi, '<hex>')
    .replace(/"[^"]*"|'[^']*'/g, '"…"')
    .replace(/\b\d+(\.\d+)?\b/g, '<n>')
    .trim()
    .slice(0, 500);
}

/** Is this a group's id (a fingerprint)? */
export function isFingerprint(raw: string): boolean {
  return /^[0-9a-f]{12}$/.test(raw);
}

export function fingerprintOf(where: string, messageType: string | null, reason: string): string {
  return createHash('sha256')
    .update(`${where}\n${messageType ?? ''}\n${failureOf(reason)}`)
    .digest('hex')
    .slice(0, 12);
}

/** The fingerprint of one dead letter. */
export const fingerprintOfLetter = (letter: GroupableDeadLetter) =>
  fingerprintOf(letter.where, letter.messageType, letter.reason);

/** Groups dead letters by fingerprint, the group seen last first, with up to `idsAtMost` newest ids each. Pure. */
export function groupDeadLetters(letters: readonly GroupableDeadLetter[], idsAtMost = 20): DeadLetterGroup[] {
  const groups = new Map<string, DeadLetterGroup>();
  for (const letter of [...letters].sort((a, b) => b.id - a.id)) {
    const fingerprint = fingerprintOfLetter(letter);
    const seen = letter.receivedAt.toISOString();
    const group = groups.get(fingerprint) ?? {
      fingerprint,
      where: letter.where,
      messageType: letter.messageType,
      reason: failureOf(letter.reason),
      count: 0,
      waiting: 0,
      cameBack: 0,
      firstSeen: seen,
      lastSeen: seen,
      ids: [],
    };
    group.count += 1;
    if (!letter.replayed) group.waiting += 1;
    if (letter.cameBack) group.cameBack += 1;
    if (seen < group.firstSeen) group.firstSeen = seen;
    if (seen > group.lastSeen) group.lastSeen = seen;
    if (group.ids.length < idsAtMost) group.ids.push(letter.id);
    groups.set(fingerprint, group);
  }
  return [...groups.values()].sort((a, b) => b.lastSeen.localeCompare(a.lastSeen));
}
