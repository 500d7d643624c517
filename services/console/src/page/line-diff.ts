/** One line of a line diff: kept, removed from the original, or added by the edit. */
export interface DiffLine {
  kind: 'same' | 'removed' | 'added';
  text: string;
  /** Its line number in the original (same, removed) or in the edit (added), from 1. */
  line: number;
}

/** Past this many lines on either side the diff is not computed line by line (the table would be too large). */
export const DIFF_MAX_LINES = 2_000;

/**
 * A line diff of `before` and `after` by their longest common subsequence of lines: the lines both keep, in order, and
 * between them what was removed and what was added (removals first). The least change in lines; pure. For texts over
 * DIFF_MAX_LINES lines, everything is one removal and one addition.
 */
export function lineDiff(before: string, after: string): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  if (a.length > DIFF_MAX_LINES || b.length > DIFF_MAX_LINES) {
    return [
      ...a.map((text, i): DiffLine => ({ kind: 'removed', text, line: i + 1 })),
      ...b.map((text, i): DiffLine => ({ kind: 'added', text, line: i + 1 })),
    ];
  }
  // Common prefix and suffix first: an edit usually touches a few lines of a long body.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const n = endA - start;
  const m = endB - start;
  // lcs[i][j]: the longest common subsequence of a[start+i..endA) and b[start+j..endB).
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[start + i] === b[start + j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: DiffLine[] = a.slice(0, start).map((text, i) => ({ kind: 'same', text, line: i + 1 }));
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[start + i] === b[start + j]) {
      out.push({ kind: 'same', text: a[start + i]!, line: start + i + 1 });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      out.push({ kind: 'removed', text: a[start + i]!, line: start + i + 1 });
      i++;
    } else {
      out.push({ kind: 'added', text: b[start + j]!, line: start + j + 1 });
      j++;
    }
  }
  for (let k = endA; k < a.length; k++) out.push({ kind: 'same', text: a[k]!, line: k + 1 });
  return out;
}

/** How many lines an edit removed and added. */
export function diffStats(diff: readonly DiffLine[]): { removed: number; added: number } {
  return {
    removed: diff.filter((d) => d.kind === 'removed').length,
    added: diff.filter((d) => d.kind === 'added').length,
  };
}
