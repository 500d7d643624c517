#!/usr/bin/env node
// Runs one vitest project in two lanes at once: the files named after `--` in the first lane, every other file of the
// project in the second. Each lane is its own vitest process, so its global setup provisions a world of its own
// (vhost, topics, databases, SMTP sink): the lanes share nothing but the brokers, as a development stack does. The
// files of a tier still run one after another inside a lane. Each line of output is prefixed with its lane; the
// command fails if either lane fails, and prints both lanes' times.
//
//   node scripts/lanes.mjs e2e -- tests/e2e/tour.e2e.spec.ts tests/e2e/offset-reset.e2e.spec.ts
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [project, separator, ...first] = process.argv.slice(2);
if (!project || separator !== '--' || first.length === 0) {
  console.error(
    'usage: node scripts/lanes.mjs PROJECT -- FILE [FILE ...]   (the first lane; the second runs the rest)',
  );
  process.exit(2);
}
const missing = first.filter((f) => !existsSync(f));
if (missing.length > 0) {
  // A renamed file would otherwise run in both lanes (the exclude matches nothing) or in none.
  console.error(`lanes: no such file: ${missing.join(', ')}`);
  process.exit(2);
}

const lanes = [
  { name: `${project}-1`, args: ['run', '--project', project, ...first] },
  { name: `${project}-2`, args: ['run', '--project', project, ...first.flatMap((f) => ['--exclude', f])] },
];

const started = Date.now();
const results = await Promise.all(
  lanes.map(
    (lane) =>
      new Promise((resolve) => {
        const begun = Date.now();
        const child = spawn('node_modules/.bin/vitest', lane.args, {
          env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? (process.stdout.isTTY ? '1' : '0') },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        for (const stream of [child.stdout, child.stderr]) {
          createInterface({ input: stream }).on('line', (line) => process.stdout.write(`[${lane.name}] ${line}\n`));
        }
        child.on('exit', (code, signal) =>
          resolve({ name: lane.name, code: code ?? 1, signal, seconds: Math.round((Date.now() - begun) / 1000) }),
        );
      }),
  ),
);

for (const r of results) {
  console.log(
    `lanes: ${r.name} ${r.code === 0 ? 'passed' : `FAILED (exit ${r.code}${r.signal ? `, ${r.signal}` : ''})`} in ${r.seconds} s`,
  );
}
console.log(`lanes: ${project} in ${Math.round((Date.now() - started) / 1000)} s`);
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
