import { describe, expect, it } from 'vitest';
import { DIFF_MAX_LINES, diffStats, lineDiff, type DiffLine } from './page/line-diff.js';

const shown = (diff: DiffLine[]) => diff.map((d) => `${{ same: ' ', removed: '-', added: '+' }[d.kind]}${d.text}`);

/** Rebuilds both sides from a diff: what it keeps and removes is the original, what it keeps and adds the edit. */
const sides = (diff: DiffLine[]) => ({
  before: diff
    .filter((d) => d.kind !== 'added')
    .map((d) => d.text)
    .join('\n'),
  after: diff
    .filter((d) => d.kind !== 'removed')
    .map((d) => d.text)
    .join('\n'),
});

describe('the line diff of an edited dead letter', () => {
  it('shows nothing changed for the same text', () => {
    expect(shown(lineDiff('a\nb', 'a\nb'))).toEqual([' a', ' b']);
    expect(diffStats(lineDiff('a\nb', 'a\nb'))).toEqual({ removed: 0, added: 0 });
  });

  it('shows a changed line as removed then added, between the lines kept', () => {
    const before = '{\n  "total": "ten euros",\n  "sku": "A"\n}';
    const after = '{\n  "total": 1000,\n  "sku": "A"\n}';
    expect(shown(lineDiff(before, after))).toEqual([
      ' {',
      '-  "total": "ten euros",',
      '+  "total": 1000,',
      '   "sku": "A"',
      ' }',
    ]);
    const numbers = lineDiff(before, after).map((d) => `${d.kind}:${d.line}`);
    expect(numbers).toEqual(['same:1', 'removed:2', 'added:2', 'same:3', 'same:4']);
  });

  it('shows lines added and removed anywhere, and the least of them', () => {
    expect(shown(lineDiff('a\nb\nc', 'x\na\nc\nd'))).toEqual(['+x', ' a', '-b', ' c', '+d']);
    expect(shown(lineDiff('', 'a'))).toEqual(['-', '+a']);
    expect(shown(lineDiff('a\nb\nc\nd', 'a\nc\nb\nd')).filter((l) => !l.startsWith(' '))).toHaveLength(2);
  });

  it('always rebuilds both texts from the diff', () => {
    const texts = ['', 'a', 'a\nb\nc', 'c\nb\na', 'a\na\nb\na', '{\n}\n', 'x\ny\nz\nx\ny'];
    for (const before of texts)
      for (const after of texts)
        expect(sides(lineDiff(before, after)), `${before} → ${after}`).toEqual({ before, after });
  });

  it('gives up line by line on a huge body: all removed, all added', () => {
    const big = Array.from({ length: DIFF_MAX_LINES + 1 }, (_, i) => `line ${i}`).join('\n');
    expect(diffStats(lineDiff(big, 'x'))).toEqual({ removed: DIFF_MAX_LINES + 1, added: 1 });
  });
});
