import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { http, launchChromium, operatorToken, startConsole, tokenFor, waitFor, type ServiceProcess } from '@am/testing';

// The burst lab in a real browser: an operator starts a burst from the control room's page, the console runs the
// load-leveling experiment (its runner, as `npm run experiment:load-leveling` does) in a world of its own (own vhost,
// databases and service processes), the page draws the depth filling and draining over the predicted curve, and the
// result is kept in the lab's results directory (a temporary one here, never the repository's). Then a burst into a
// bounded queue, which refuses with 503 and Retry-After; the same parameters through the CLI, whose file must have the
// same shape; two runs side by side; and the refusals. `SCREENSHOTS=1` saves the view into docs/images.
const SHOTS = process.env.SCREENSHOTS === '1' ? 'docs/images' : undefined;
const ROOT = path.resolve(import.meta.dirname, '../..');
const resultsDir = mkdtempSync(path.join(os.tmpdir(), 'burst-lab-'));
// The console reads no stack here: the six services' URLs point at a closed port (the lab starts services of its own).
const NO_SERVICES = Object.fromEntries(
  ['ORDERS', 'INVENTORY', 'PAYMENTS', 'EMAIL', 'ANALYTICS', 'AUDIT'].map((s) => [`${s}_URL`, 'http://127.0.0.1:9']),
);
let controlRoom: ServiceProcess<'console'>;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const runs: string[] = [];

beforeAll(async () => {
  controlRoom = await startConsole({}, { ...NO_SERVICES, LAB_ALLOWED: '1', LAB_RESULTS_DIR: resultsDir });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${controlRoom.url}/#token=${await operatorToken()}`);
  await page.waitForSelector('#lab-note:has-text("runs are kept in")', { timeout: 20_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await controlRoom?.stop();
  rmSync(resultsDir, { recursive: true, force: true });
});

type Report = Record<string, unknown> & {
  accepted: number;
  requests: number;
  lost: number;
  stored: number;
  rejected503: number;
  rejectedWithRetryAfter: number;
  retryAfterValues: string[];
  sagasEnded: number;
  allSagasEnded: boolean;
  peakDepth: number;
  errorsByKind: Record<string, number>;
  command: string;
  options: Record<string, unknown>;
  lab: { runId: string; operator: string };
};

const asOperator = async () => ({ authorization: `Bearer ${await operatorToken()}` });
const measuredMax = () =>
  page
    .locator('#lab-chart polyline[data-series="measured"]')
    .getAttribute('data-max')
    .then((v) => Number(v ?? 0))
    .catch(() => 0);

/** Fills the form, starts the run from the page, and returns its id once the page shows it running. */
async function startFromPage(requests: number, capacity: number, bound: number): Promise<string> {
  await page.fill('#lab-requests', String(requests));
  await page.fill('#lab-duration', '1000');
  await page.fill('#lab-capacity', String(capacity));
  await page.fill('#lab-bound', String(bound));
  await page.click('#lab-start');
  await page.waitForSelector('#lab-message.ok', { timeout: 10_000 });
  const id = (await page.locator('#lab-status').getAttribute('data-run'))!;
  expect(id).toMatch(/^\d{8}-\d{6}-[0-9a-f]{4}$/);
  runs.push(id);
  return id;
}

/** Watches the measured depth on the page until the run is done; returns every depth maximum seen while running. */
async function watchUntilDone(id: string): Promise<number[]> {
  const seen: number[] = [];
  await waitFor(
    `run ${id} to be done on the page`,
    async () => {
      seen.push(await measuredMax());
      const status = await page.locator(`#lab-status[data-run="${id}"]`).getAttribute('data-status');
      if (status === 'failed') throw new Error(`run failed: ${await page.locator('#lab-status').textContent()}`);
      return status === 'done';
    },
    { timeoutMs: 240_000, intervalMs: 250 },
  );
  return seen;
}

const report = (dir: string, name: string) =>
  JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as Report;

describe('the burst lab in a browser', () => {
  it('runs a burst from the page: the depth fills over the prediction and drains, and the result is kept', async () => {
    const id = await startFromPage(400, 100, 0);
    expect(await page.locator('#lab-predicted').textContent()).toContain('predicted: peak 300');
    const seen = await watchUntilDone(id);
    // The live chart rose while the run went on (before the end), and the figures were filled in.
    const risingAt = seen.findIndex((v) => v > 0);
    expect(risingAt).toBeGreaterThanOrEqual(0);
    expect(risingAt).toBeLessThan(seen.length - 1);
    expect(Math.max(...seen)).toBeGreaterThan(50);
    expect(await page.locator('#lab-live [data-figure="accepted"]').textContent()).toBe('400');
    expect(await page.locator('#lab-summary [data-key="lost"] td').textContent()).toBe('0');
    // The system: the file under the lab's results directory, every accepted order stored and its saga ended.
    const result = report(resultsDir, id);
    expect(result.lab).toEqual({ runId: id, operator: 'tests' });
    expect(result.options).toMatchObject({ requests: 400, durationMs: 1_000, capacity: 100, maxLength: 0 });
    expect(result.accepted).toBe(400);
    expect(result.stored).toBe(400);
    expect(result.lost).toBe(0);
    expect(result.sagasEnded).toBe(400);
    expect(result.allSagasEnded).toBe(true);
    expect(result.peakDepth).toBeGreaterThan(50);
    for (const suffix of ['.json', '.csv', '-depth.csv', '-requests.csv', '.svg'])
      expect(existsSync(path.join(resultsDir, `${id}${suffix}`)), suffix).toBe(true);
    // Kept outside the repository.
    expect(existsSync(path.join(ROOT, 'experiments', 'results', 'lab', `${id}.json`))).toBe(false);
  }, 300_000);

  it('runs a burst into a bounded queue: 503s with Retry-After, refusing a second run and bad parameters meanwhile', async () => {
    const id = await startFromPage(400, 50, 100);
    expect(await page.locator('#lab-predicted').textContent()).toContain('refused with 503');
    // One run at a time, and parameters out of range refused: nothing starts.
    const headers = await asOperator();
    const busy = await http<{ reason: string }>('POST', `${controlRoom.url}/api/lab/runs`, { requests: 10 }, headers);
    expect(busy.status).toBe(409);
    expect(busy.body.reason).toContain(id);
    for (const bad of [
      { requests: 0 },
      { capacity: 'fast' },
      { maxLength: 5 },
      { requests: 10_000, capacity: 10 },
      [],
    ]) {
      expect((await http('POST', `${controlRoom.url}/api/lab/runs`, bad, headers)).status, JSON.stringify(bad)).toBe(
        400,
      );
    }
    await watchUntilDone(id);
    const shown = await page.locator('#lab-live [data-figure="rejected"]').textContent();
    expect(shown).toMatch(/^[1-9][\d,]* \(Retry-After: \d+ s\)$/);
    const result = report(resultsDir, id);
    expect(result.options).toMatchObject({ requests: 400, capacity: 50, maxLength: 100 });
    expect(result.rejected503).toBeGreaterThan(0);
    expect(result.rejectedWithRetryAfter).toBe(result.rejected503);
    expect(result.retryAfterValues.length).toBeGreaterThan(0);
    // Every request was either accepted or refused; every accepted one stored and ended; no refused one left an order.
    expect(result.accepted + result.rejected503).toBe(400);
    expect(result.lost).toBe(0);
    expect(result.unexpectedOrders).toBe(0);
    expect(result.sagasEnded).toBe(result.accepted);
    expect(result.allSagasEnded).toBe(true);
    const listed = await http<{ runs: { id: string }[] }>('GET', `${controlRoom.url}/api/lab/runs`, undefined, headers);
    expect(listed.body.runs.map((r) => r.id)).toEqual([...runs].reverse());
  }, 300_000);

  it('writes the same files, of the same shape, as the CLI runner given the same parameters', async () => {
    const lab = report(resultsDir, runs[0]!);
    // The lab's command line, with the CLI's own results directory and name and without the lab's flags.
    const args = lab.command
      .replace(/^node experiments\/dist\/load-leveling\.js /, '')
      .split(' ')
      .reduce<string[]>((kept, arg, i, all) => {
        const flag = all[i - 1];
        const labFlag = ['--results-dir', '--name', '--run-id', '--operator', '--progress'];
        if (labFlag.includes(arg) || (flag !== undefined && labFlag.includes(flag))) return kept;
        return [...kept, arg];
      }, []);
    const cliDir = mkdtempSync(path.join(os.tmpdir(), 'burst-cli-'));
    try {
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn(
          process.execPath,
          ['experiments/dist/load-leveling.js', ...args, '--results-dir', cliDir, '--name', 'cli'],
          { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
        );
        child.on('exit', resolve);
      });
      expect(code).toBe(0);
      const cli = report(cliDir, 'cli');
      const shape = (value: unknown): unknown =>
        Array.isArray(value)
          ? 'array'
          : typeof value === 'object' && value !== null
            ? Object.fromEntries(
                Object.entries(value)
                  .filter(([key]) => key !== 'lab' && key !== 'errorsByKind')
                  .map(([key, v]) => [key, shape(v)]),
              )
            : value === null
              ? 'number' // a figure that could not be measured (no drain seen, NaN) is written as null
              : typeof value;
      expect(shape(cli)).toEqual(shape(lab));
      expect({ ...cli.options, name: '' }).toEqual({ ...lab.options, name: '' });
      expect(cli.accepted).toBe(400);
      expect(cli.allSagasEnded).toBe(true);
      expect(readdirSync(cliDir).sort()).toEqual([
        'cli-depth.csv',
        'cli-requests.csv',
        'cli.csv',
        'cli.json',
        'cli.svg',
      ]);
      const labFiles = readdirSync(resultsDir)
        .filter((f) => f.startsWith(runs[0]!))
        .map((f) => f.replace(runs[0]!, 'cli'))
        .sort();
      expect(labFiles).toEqual(readdirSync(cliDir).sort());
    } finally {
      rmSync(cliDir, { recursive: true, force: true });
    }
  }, 300_000);

  it('compares two saved runs side by side: both curves with their predictions, and their key figures', async () => {
    await page.reload();
    await page.waitForSelector(`#lab-runs [data-saved-run="${runs[1]}"]`, { timeout: 20_000 });
    for (const id of runs) await page.check(`input[data-pick="${id}"]`);
    await page.click('#lab-compare-button');
    await page.waitForSelector('#lab-compare-table');
    expect(await page.locator('#lab-compare-chart polyline').count()).toBe(4);
    const headings = await page.locator('#lab-compare-table tr').first().locator('th').allTextContents();
    expect(headings.slice(1).map((t) => t.slice(0, 20))).toEqual([...runs].sort().map((id) => id.slice(0, 20)));
    const refused = await page.locator('#lab-compare-table [data-key="rejected"] td').allTextContents();
    expect(refused.some((t) => t.startsWith('0 '))).toBe(true);
    expect(refused.some((t) => /^[1-9]/.test(t))).toBe(true);
    for (const id of runs)
      expect(
        Number(
          await page.locator(`#lab-compare-chart polyline[data-series="${id} measured"]`).getAttribute('data-max'),
        ),
      ).toBeGreaterThan(0);
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.locator('#lab-view').screenshot({ path: `${SHOTS}/console-burst-lab.png` });
    }
  });

  it('refuses a customer, a caller without a token, bad run ids, and everything where the lab is not allowed', async () => {
    const customer = { authorization: `Bearer ${await tokenFor({ role: 'customer', subject: 'alice' })}` };
    for (const [method, route, body] of [
      ['GET', '/api/lab/runs', undefined],
      ['POST', '/api/lab/runs', { requests: 10 }],
      ['GET', `/api/lab/runs/${runs[0]}`, undefined],
    ] as const) {
      const refused = await http<{ reason?: string }>(method, `${controlRoom.url}${route}`, body, customer);
      expect(refused.status, `${method} ${route}`).toBe(403);
      expect(refused.body.reason).toBeTruthy();
      expect((await http(method, `${controlRoom.url}${route}`, body, { authorization: '' })).status).toBe(401);
    }
    const headers = await asOperator();
    expect((await http('GET', `${controlRoom.url}/api/lab/runs/not-a-run`, undefined, headers)).status).toBe(400);
    expect((await http('GET', `${controlRoom.url}/api/lab/runs/20261203-000000-0000`, undefined, headers)).status).toBe(
      404,
    );
    // Nothing started by the refused calls: the last run is still the bounded one.
    const overview = await http<{ current: { id: string } }>(
      'GET',
      `${controlRoom.url}/api/lab/runs`,
      undefined,
      headers,
    );
    expect(overview.body.current.id).toBe(runs[1]);
    // A console without LAB_ALLOWED=1 (compose, Kubernetes): 403 with the reason, for the operator too.
    const closed = await startConsole({}, NO_SERVICES);
    try {
      for (const [method, route, body] of [
        ['GET', '/api/lab/runs', undefined],
        ['POST', '/api/lab/runs', { requests: 10 }],
        ['GET', `/api/lab/runs/${runs[0]}`, undefined],
      ] as const) {
        const refused = await http<{ reason?: string }>(method, `${closed.url}${route}`, body, headers);
        expect(refused.status, `${method} ${route}`).toBe(403);
        expect(refused.body.reason).toContain('LAB_ALLOWED=1');
      }
    } finally {
      await closed.stop();
    }
  });

  it('threw no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
