import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  burstTable,
  replaceBlock,
  resultBlocks,
  writeResultBlocks,
  type LoadLevelingResult,
} from '../../experiments/src/lib/results-tables.js';
import { ROOT } from '../contracts/consumers.js';
import { benchSummary, type BenchResult } from '../../experiments/bench/src/report.js';

// The experiments' figures on the docs pages are rendered from the committed result files and checked here, so a
// page cannot show a figure its result file does not hold. `npm run docs:results` (WRITE_RESULTS=1) rewrites them;
// the experiment runners do it after every run.
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

describe('experiment figures in the docs', () => {
  for (const block of resultBlocks) {
    it(`${block.file}: the ${block.name} table is what ${block.result} holds`, () => {
      if (process.env.WRITE_RESULTS === '1') writeResultBlocks(ROOT, block.result);
      const text = read(block.file);
      const result = JSON.parse(read(`experiments/results/${block.result}`)) as unknown;
      const expected = replaceBlock(text, block.name, block.render(result));
      expect(expected, `${block.file} has no <!-- results:${block.name}:begin/end --> markers`).toBeDefined();
      expect(text === expected, `${block.file} is out of date: run \`npm run docs:results\``).toBe(true);
    });
  }

  it('docs/benchmarks.md: the bench table is what bench.json holds', () => {
    const render = (text: string) =>
      replaceBlock(text, 'bench', benchSummary(JSON.parse(read('experiments/results/bench.json')) as BenchResult));
    if (process.env.WRITE_RESULTS === '1') {
      writeFileSync(path.join(ROOT, 'docs/benchmarks.md'), render(read('docs/benchmarks.md'))!);
    }
    const text = read('docs/benchmarks.md');
    expect(render(text), 'docs/benchmarks.md has no <!-- results:bench:begin/end --> markers').toBeDefined();
    expect(text === render(text), 'docs/benchmarks.md is out of date: run `npm run docs:results`').toBe(true);
  });

  it('shows the measured figures against the prediction, with their difference', () => {
    const result = JSON.parse(read('experiments/results/load-leveling.json')) as LoadLevelingResult;
    const table = burstTable({ ...result, peakDepth: 9_900, predictedPeakDepth: 9_000, drained: false });
    expect(table).toContain('| peak queue depth | 9,900 ready messages');
    expect(table).toContain('| +10 % |');
    expect(table).toContain('| queue empty again, after the burst | not drained |');
  });
});
