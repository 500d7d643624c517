import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { missingLines, tourBlocks } from './tour.js';

const page = readFileSync(new URL('../../docs/tour.md', import.meta.url), 'utf8');

describe('the tour page (docs/tour.md)', () => {
  it('runs every command but the two it says it does not, and each says why', () => {
    const blocks = tourBlocks(page);
    expect(blocks.length).toBeGreaterThan(20);
    expect(blocks.filter((b) => b.notRun).map((b) => b.command)).toEqual([
      './stack up',
      'npm run experiment:load-leveling',
    ]);
    for (const block of blocks.filter((b) => b.notRun)) expect(block.notRun!.length).toBeGreaterThan(20);
  });

  it('has a stop for each part of the article, each with at least one command the test runs', () => {
    const stops = new Set(tourBlocks(page).map((b) => b.stop));
    expect(stops.size).toBeGreaterThanOrEqual(14);
    for (const stop of stops) {
      if (stop.includes('Load leveling')) continue; // the experiment, which the test does not run
      expect(
        tourBlocks(page).some((b) => b.stop === stop && !b.notRun),
        stop,
      ).toBe(true);
    }
  });
});

describe("matching a command's output against the page", () => {
  it('finds the expected lines in order, with … for what changes', () => {
    const output = 'noise\n202 {"orderId":"abc","status":"PENDING"}\nmore\nok: done\n';
    expect(missingLines(['202 {"orderId":"…","status":"PENDING"}', 'ok: done'], output)).toEqual([]);
  });

  it('reports a line that is missing, out of order, or only part of a line', () => {
    const output = 'ok: done\n202 {"orderId":"abc","status":"PENDING"}\n';
    expect(missingLines(['202 {"orderId":"…","status":"PENDING"}', 'ok: done'], output)).toEqual(['ok: done']);
    expect(missingLines(['PENDING'], output)).toEqual(['PENDING']);
    expect(missingLines(['2 x 202'], '200 x 202\n')).toEqual(['2 x 202']);
  });

  it('reads a block, its expected output and its stop from the page', () => {
    const [block, skipped] = tourBlocks(
      '## 1. A stop\n\n```sh\necho hi\n```\n\n```text\nhi\n```\n\n<!-- tour: not run (because) -->\n\n```sh\nrm -rf /\n```\n',
    );
    expect(block).toMatchObject({ stop: '1. A stop', command: 'echo hi', expected: ['hi'], line: 3 });
    expect(skipped).toMatchObject({ stop: '1. A stop', command: 'rm -rf /', expected: [], notRun: 'because' });
  });
});
