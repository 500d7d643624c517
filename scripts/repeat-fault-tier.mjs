#!/usr/bin/env node
// Runs the fault tier N times in a row and counts the passes: the flakiness measurement of the fault tests.
//   npm run test:fault:repeat -- 10          (or: node scripts/repeat-fault-tier.mjs 10)
// Each run's output goes to .run/fault-repeat/run-<n>.log; the summary (per run: passed, seconds, failed tests,
// whether a development stack was running beside it) to experiments/results/fault-repeat.json, with a plot
// in experiments/results/fault-repeat.svg, both rewritten after every run.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, createWriteStream } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? process.env.RUNS ?? 10);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`usage: repeat-fault-tier.mjs <runs>  (got ${process.argv[2]})`);
  process.exit(2);
}
const logDir = path.join(root, '.run', 'fault-repeat');
const resultsDir = path.join(root, 'experiments', 'results');
mkdirSync(logDir, { recursive: true });
mkdirSync(resultsDir, { recursive: true });

/** True when the development stack (`./stack up`) answers on its ports: the run was on a loaded machine. */
async function devStackRunning() {
  const answers = await Promise.all(
    [3001, 3002, 3003, 3004, 3005, 3006].map((port) =>
      fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) })
        .then(() => true)
        .catch(() => false),
    ),
  );
  return answers.every(Boolean);
}

function runOnce(n) {
  return new Promise((resolve) => {
    const logFile = path.join(logDir, `run-${n}.log`);
    const log = createWriteStream(logFile);
    const started = performance.now();
    const child = spawn('npx', ['vitest', 'run', '--project', 'fault', '--passWithNoTests'], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk) => {
      log.write(chunk);
      // eslint-disable-next-line no-control-regex
      const text = chunk.toString().replace(/\u001b\[[0-9;]*m/g, '');
      output += text;
      // Progress: one dot per finished test file.
      for (const line of text.split('\n')) if (/^\s*[✓✗×]\s+(\|?fault\|?)\s/.test(line)) process.stdout.write('.');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('close', (code) => {
      log.end();
      const failed = [
        ...new Set(
          output
            .split('\n')
            .filter((l) => /^\s*(FAIL|[✗×])\s/.test(l))
            .map((l) => l.trim()),
        ),
      ];
      resolve({
        run: n,
        passed: code === 0,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        failed,
        log: path.relative(root, logFile),
      });
    });
  });
}

function plot(results) {
  const width = 640;
  const height = 320;
  const pad = { left: 56, right: 16, top: 40, bottom: 44 };
  const max = Math.max(...results.map((r) => r.seconds), 1);
  const bar = (width - pad.left - pad.right) / results.length;
  const y = (s) => pad.top + (height - pad.top - pad.bottom) * (1 - s / max);
  const bars = results
    .map((r, i) => {
      const x = pad.left + i * bar + bar * 0.15;
      const top = y(r.seconds);
      return (
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(bar * 0.7).toFixed(1)}" ` +
        `height="${(height - pad.bottom - top).toFixed(1)}" fill="${r.passed ? '#2e7d32' : '#c62828'}"/>` +
        `<text x="${(x + bar * 0.35).toFixed(1)}" y="${height - pad.bottom + 16}" font-size="11" text-anchor="middle">${r.run}</text>`
      );
    })
    .join('');
  const passes = results.filter((r) => r.passed).length;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${pad.left}" y="22" font-size="14">Fault tier, ${results.length} runs in a row: ${passes} passed (green), ${results.length - passes} failed (red)</text>
<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#333"/>
<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#333"/>
<text x="${pad.left - 6}" y="${y(max) + 4}" font-size="11" text-anchor="end">${Math.round(max)} s</text>
<text x="${pad.left - 6}" y="${height - pad.bottom + 4}" font-size="11" text-anchor="end">0</text>
<text x="${(width + pad.left) / 2}" y="${height - 8}" font-size="12" text-anchor="middle">run (bar height: wall time)</text>
${bars}
</svg>
`;
}

const results = [];

/** Writes the result file and plot: after every run, so a series cut short still leaves its figures. */
function writeSummary() {
  const summary = {
    command: `npm run test:fault:repeat -- ${runs}`,
    finishedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), load1: os.loadavg()[0] },
    planned: runs,
    runs: results.length,
    passed: results.filter((r) => r.passed).length,
    medianSeconds: [...results.map((r) => r.seconds)].sort((a, b) => a - b)[Math.floor(results.length / 2)],
    results,
  };
  writeFileSync(path.join(resultsDir, 'fault-repeat.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(path.join(resultsDir, 'fault-repeat.svg'), plot(results));
  return summary;
}

console.log(`fault tier: ${runs} runs in a row; logs in ${path.relative(root, logDir)}/`);
for (let n = 1; n <= runs; n++) {
  const loaded = await devStackRunning();
  process.stdout.write(`run ${n}/${runs}${loaded ? ' (development stack running beside it)' : ''} `);
  const result = { ...(await runOnce(n)), devStackRunning: loaded };
  results.push(result);
  writeSummary();
  const passes = results.filter((r) => r.passed).length;
  console.log(
    ` ${result.passed ? 'passed' : 'FAILED'} in ${result.seconds} s (${passes}/${n} passed so far)` +
      (result.failed.length > 0 ? `\n  ${result.failed.join('\n  ')}\n  see ${result.log}` : ''),
  );
}
const summary = writeSummary();
console.log(
  `${summary.passed}/${summary.runs} passed; median ${summary.medianSeconds} s; experiments/results/fault-repeat.json`,
);
process.exit(summary.passed === summary.runs ? 0 : 1);
