/**
 * Load leveling, measured: a burst of POST /orders far above what the order-processing workers can take, with the
 * workers capped at a known rate (ORDER_PROCESSING_MAX_PER_SECOND, the capacity knob). The queue absorbs the
 * burst, the API keeps answering 202, and the backlog drains at the workers' pace. Then the same burst against
 * POST /orders/sync, where every request waits for inventory and payments.
 *
 *   npx tsc -b && npm run experiment:load-leveling            # 10,000 requests in 1 s, capacity 1,000/s
 *   npm run experiment:load-leveling -- --requests 2000 --capacity 200 --skip-sync
 *   npm run experiment:load-leveling -- --requests 400 --capacity 50 --max-length 100 --skip-sync   # 503s
 *
 * Writes experiments/results/load-leveling.{json,svg,csv} and load-leveling-sync.{svg,csv}, and the docs' tables
 * from them. The experiment itself is lib/load-leveling-run.ts, which the control room's burst lab runs too: it
 * starts this script with `--results-dir <dir> --progress json --operator <who>`, reads the progress events
 * (`@burst <json>` lines on stdout) and keeps the result under experiments/results/lab/.
 */
import path from 'node:path';
import { parseArgs } from './lib/args.js';
import { epochMs, progress } from './lib/clock.js';
import { LOAD_LEVELING_DEFAULTS, runLoadLeveling, type LoadLevelingOptions } from './lib/load-leveling-run.js';
import { writeResultBlocks } from './lib/results-tables.js';
import { repoRoot, resultsDir } from './lib/world.js';

/** Where the progress events go with `--progress json`: one line each, after this prefix, on stdout. */
const PROGRESS_PREFIX = '@burst ';

const args = parseArgs({
  ...LOAD_LEVELING_DEFAULTS,
  /** Write the results here instead of experiments/results/ (and leave the docs' tables alone). */
  resultsDir: '',
  /** `json`: progress events on stdout, for the control room's burst lab. */
  progress: '',
  /** Who started the run (the lab's operator): goes into the report as `lab.operator`. */
  operator: '',
  /** The lab's run id: goes into the report as `lab.runId`. */
  runId: '',
});
const { resultsDir: otherDir, progress: progressFormat, operator, runId, ...options } = args;

const started = epochMs();
const log = (message: string) => progress(started, message);
const json = progressFormat === 'json';

try {
  const { file } = await runLoadLeveling(options satisfies LoadLevelingOptions, {
    resultsDir: otherDir ? path.resolve(otherDir) : resultsDir,
    command: `node experiments/dist/load-leveling.js ${process.argv.slice(2).join(' ')}`.trim(),
    log,
    ...(json ? { onEvent: (event) => process.stdout.write(`${PROGRESS_PREFIX}${JSON.stringify(event)}\n`) } : {}),
    ...(operator || runId ? { extra: { lab: { runId, operator } } } : {}),
  });
  if (!otherDir) {
    for (const page of writeResultBlocks(repoRoot, path.basename(file))) log(`rewrote the figures of ${page} from it`);
  }
} catch (error) {
  if (json) process.stdout.write(`${PROGRESS_PREFIX}${JSON.stringify({ type: 'failed', reason: String(error) })}\n`);
  throw error;
}
