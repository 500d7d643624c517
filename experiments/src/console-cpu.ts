/**
 * What the control room costs the stack: the CPU time of the six services (and of the console itself) under the same
 * steady order load in three phases side by side: no console, the console collecting with no page open, and the
 * console with its page open in a real browser (the browser's own CPU is the viewer's, not the stack's).
 * `npm run experiment:console -- [--phase-s 30] [--rate 20] [--rounds 3]` (medians over the rounds); writes
 * experiments/results/console-cpu.{json,svg}.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SERVICES } from '@am/messaging';
import { launchChromium, operatorToken, startConsole, type ServiceProcess } from '@am/testing';
import { parseArgs } from './lib/args.js';
import { epochMs, progress, sleep } from './lib/clock.js';
import { runOpenLoad } from './lib/load-generator.js';
import { writeJson } from './lib/stats.js';
import { writeChart } from './lib/svg-chart.js';
import { writeResultBlocks } from './lib/results-tables.js';
import { repoRoot, resultsDir, withWorld } from './lib/world.js';

const options = parseArgs({ phaseS: 30, rate: 20, rounds: 3 });
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

interface Phase {
  name: string;
  /** Seconds since the run started. */
  startedAt: number;
  seconds: number;
  servicesCpu: number;
  consoleCpu: number;
}

await withWorld({}, async (world) => {
  const started = epochMs();
  const others = await Promise.all(SERVICES.filter((s) => s !== 'orders').map((s) => world.start(s)));
  const byName = Object.fromEntries(others.map((p) => [p.service, p])) as Record<string, ServiceProcess>;
  byName.orders = await world.start('orders', {
    INVENTORY_URL: byName.inventory!.url,
    PAYMENTS_URL: byName.payments!.url,
  });
  const services = Object.values(byName);
  const urls = { orders: byName.orders.url, inventory: byName.inventory!.url, payments: byName.payments!.url };
  const { userIds, skuIds } = await world.seed(urls, 20, 1_000_000, 5, 1_000_000);
  progress(started, `world ${world.env.vhost}: six services up and seeded`);

  const samples: { t: number; services: number; console: number }[] = [];
  // Set once the first phase is over; the sampler reads it in every phase.
  const running: { console?: ServiceProcess<'console'> } = {};
  const phases: Phase[] = [];

  async function phase(name: string): Promise<void> {
    const seconds = options.phaseS;
    const requests = seconds * options.rate;
    const phaseStart = epochMs();
    const before = {
      services: services.reduce((sum, p) => sum + cpuSeconds(p.pid), 0),
      console: cpuSeconds(running.console?.pid),
    };
    let last = { ...before, at: epochMs() };
    const sampler = setInterval(() => {
      const now = {
        services: services.reduce((sum, p) => sum + cpuSeconds(p.pid), 0),
        console: cpuSeconds(running.console?.pid),
        at: epochMs(),
      };
      const dt = (now.at - last.at) / 1000;
      samples.push({
        t: (now.at - started) / 1000,
        services: (now.services - last.services) / dt,
        console: (now.console - last.console) / dt,
      });
      last = now;
    }, 1000);
    await runOpenLoad({
      baseUrl: urls.orders,
      requests,
      durationMs: seconds * 1000,
      request: (i) => ({
        method: 'POST',
        path: '/orders',
        body: {
          userId: userIds[i % userIds.length],
          items: [{ sku: skuIds[i % skuIds.length], quantity: 1, unitPrice: 1 }],
        },
      }),
    });
    clearInterval(sampler);
    const after = {
      services: services.reduce((sum, p) => sum + cpuSeconds(p.pid), 0),
      console: cpuSeconds(running.console?.pid),
    };
    phases.push({
      name,
      startedAt: (phaseStart - started) / 1000,
      seconds,
      servicesCpu: after.services - before.services,
      consoleCpu: after.console - before.console,
    });
    progress(
      started,
      `${name}: services ${(after.services - before.services).toFixed(1)} s CPU, console ${(after.console - before.console).toFixed(1)} s CPU over ${seconds} s`,
    );
  }

  // Warm-up, not counted: the first seconds of load pay for compilation and connection pools.
  await phase('warm-up');
  phases.pop();
  // The three phases in turn, `rounds` times: the machine's own drift then spreads over all three alike.
  for (let round = 1; round <= options.rounds; round++) {
    await phase('no console');
    const consoleProcess = await startConsole(byName, {}, undefined, world.env);
    running.console = consoleProcess;
    await sleep(3_000);
    await phase('console, no page open');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      await page.goto(`${consoleProcess.url}/#token=${await operatorToken()}`);
      await page.waitForSelector('#topology svg');
      await phase('console, page open');
    } finally {
      await browser.close();
      await consoleProcess.stop();
      running.console = undefined;
    }
  }

  const names = ['no console', 'console, no page open', 'console, page open'];
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const medians = names.map((name) => {
    const runs = phases.filter((p) => p.name === name);
    return {
      name,
      seconds: options.phaseS,
      rounds: runs.length,
      servicesCpu: median(runs.map((p) => p.servicesCpu)),
      consoleCpu: median(runs.map((p) => p.consoleCpu)),
      totalCpu: median(runs.map((p) => p.servicesCpu + p.consoleCpu)),
      totalCpuEach: runs.map((p) => Number((p.servicesCpu + p.consoleCpu).toFixed(2))),
    };
  });
  const base = medians[0]!.totalCpu;
  const result = {
    command: `npm run experiment:console -- --phase-s ${options.phaseS} --rate ${options.rate} --rounds ${options.rounds}`,
    at: new Date().toISOString(),
    rate: options.rate,
    phases: medians.map((p) => ({ ...p, addedPercent: ((p.totalCpu - base) / base) * 100 })),
    pageAddsPercent: ((medians[2]!.totalCpu - medians[1]!.totalCpu) / base) * 100,
    consoleAddsPercent: ((medians[2]!.totalCpu - base) / base) * 100,
    consoleOwnPercent: (medians[2]!.consoleCpu / base) * 100,
  };
  writeJson(path.join(resultsDir, 'console-cpu.json'), result);
  const pages = writeResultBlocks(repoRoot, 'console-cpu.json');
  if (pages.length > 0) console.log(`updated: ${pages.join(', ')}`);
  writeChart(path.join(resultsDir, 'console-cpu.svg'), {
    title: 'What the control room costs the stack',
    subtitle: `${options.rate} orders/s throughout; CPU of the six services and of the console, per second`,
    xLabel: 'seconds',
    panels: [
      {
        yLabel: 'CPU (cores)',
        series: [
          { name: 'six services', color: '#1f77b4', points: samples.map((s) => ({ t: s.t, v: s.services })) },
          { name: 'console', color: '#d62728', points: samples.map((s) => ({ t: s.t, v: s.console })) },
        ],
      },
    ],
    xMarks: phases.map((p) => ({ t: p.startedAt, label: p.name.replace('console, ', '') })),
  });
  for (const p of result.phases)
    console.log(
      `${p.name.padEnd(24)} services ${p.servicesCpu.toFixed(1)} s, console ${p.consoleCpu.toFixed(1)} s, total ${p.totalCpu.toFixed(1)} s CPU (${p.addedPercent >= 0 ? '+' : ''}${p.addedPercent.toFixed(1)}% against no console)`,
    );
  console.log(
    `medians of ${options.rounds} rounds: the open page adds ${result.pageAddsPercent.toFixed(1)}% CPU to the stack; the console with its page ${result.consoleAddsPercent.toFixed(1)}% (its own process ${result.consoleOwnPercent.toFixed(1)}%)`,
  );
});
