/** One shell block of docs/tour.md, with the output the page says to expect. */
export interface TourBlock {
  /** The heading of the stop the block belongs to. */
  stop: string;
  /** Its line in the page (1-based), for messages. */
  line: number;
  command: string;
  /** The lines of the `text` block right below it; empty when the page shows no output. */
  expected: string[];
  /** Why the tour's test does not run it (the page's `<!-- tour: not run (...) -->` comment), if it does not. */
  notRun?: string;
}

const BLOCK = /(?:<!-- tour: not run \(([^)]*)\) -->\s*\n)?```sh\n([\s\S]*?)```(?:[ \t]*\n\s*```text\n([\s\S]*?)```)?/g;

/** The page's shell blocks, in order. */
export function tourBlocks(page: string): TourBlock[] {
  const blocks: TourBlock[] = [];
  for (const match of page.matchAll(BLOCK)) {
    const before = page.slice(0, match.index);
    const headings = [...before.matchAll(/^## (.+)$/gm)];
    blocks.push({
      stop: headings.at(-1)?.[1] ?? '(before the first stop)',
      line: before.split('\n').length + (match[1] === undefined ? 0 : 1),
      command: match[2]!.trimEnd(),
      expected: match[3] === undefined ? [] : match[3].trimEnd().split('\n'),
      ...(match[1] === undefined ? {} : { notRun: match[1] }),
    });
  }
  return blocks;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The expected lines missing from `output`: each must match a whole line of the output, in order (other lines may
 * come between them); `…` stands for any text within the line.
 */
export function missingLines(expected: readonly string[], output: string): string[] {
  const lines = output.split('\n').map((l) => l.trimEnd());
  let at = 0;
  const missing: string[] = [];
  for (const want of expected) {
    const pattern = new RegExp(`^${want.split('…').map(escape).join('.*')}$`);
    const found = lines.findIndex((line, i) => i >= at && pattern.test(line));
    if (found === -1) missing.push(want);
    else at = found + 1;
  }
  return missing;
}
