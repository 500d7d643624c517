import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Lab, LabRefused, RUN_ID, parseDepthCsv, runnerEnv, summaryOf } from './lab.js';

const REPO = path.resolve(import.meta.dirname, '../../../..');
const silent = { warn: () => undefined };
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lab-unit-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('the burst lab (console side)', () => {
  it('refuses everything, with the reason, where the console runs without LAB_ALLOWED=1', async () => {
    const lab = await Lab.create(
      { allowed: false, experimentsDir: path.join(REPO, 'experiments', 'dist'), resultsDir: tempDir(), repoRoot: REPO },
      silent,
    );
    expect(lab.refusal).toContain('LAB_ALLOWED=1');
    expect(() => lab.overview()).toThrow(LabRefused);
    expect(() => lab.check({})).toThrow(LabRefused);
    expect(() => lab.start({ requests: 1, durationMs: 100, capacity: 10, maxLength: 0, prefetch: 1 }, 'x')).toThrow(
      LabRefused,
    );
    expect(lab.run()).toBeUndefined();
  });

  it('refuses, naming the command, when the experiments are not built', async () => {
    const lab = await Lab.create(
      { allowed: true, experimentsDir: tempDir(), resultsDir: tempDir(), repoRoot: REPO },
      silent,
    );
    expect(lab.refusal).toMatch(/built experiments.*npx tsc -b/);
  });

  it('lists and reads the runs it kept, newest first, ignoring other files', async () => {
    const resultsDir = tempDir();
    const report = (requests: number) => ({
      ranAt: '2026-12-03T04:00:00.000Z',
      options: { requests, durationMs: 1_000, capacity: 100, maxLength: 0, prefetch: 50 },
      requests,
      accepted: requests,
      errorsByKind: {},
      peakDepth: requests - 100,
      lab: { operator: 'alice' },
    });
    writeFileSync(path.join(resultsDir, '20261203-040000-aaaa.json'), JSON.stringify(report(400)));
    writeFileSync(path.join(resultsDir, '20261203-041500-bbbb.json'), JSON.stringify(report(800)));
    writeFileSync(path.join(resultsDir, '20261203-041500-bbbb-depth.csv'), 't_s,ready,consumers\n0,0,1\n0.5,350,1\n');
    writeFileSync(path.join(resultsDir, 'load-leveling.json'), '{}');
    writeFileSync(path.join(resultsDir, '20261203-042000-cccc.json'), 'not json');
    // The lab loads the model from the experiments as the console does (here their source, so no build is needed).
    const experimentsDir = tempDir();
    mkdirSync(path.join(experimentsDir, 'lib'));
    writeFileSync(path.join(experimentsDir, 'load-leveling.js'), '');
    const source = pathToFileURL(path.join(REPO, 'experiments', 'src', 'lib', 'burst-model.ts')).href;
    writeFileSync(path.join(experimentsDir, 'lib', 'burst-model.js'), `export * from '${source}';\n`);
    const lab = await Lab.create({ allowed: true, experimentsDir, resultsDir, repoRoot: REPO }, silent);
    expect(lab.refusal).toBeUndefined();
    expect(lab.list().map((r) => [r.id, r.operator, r.params.requests])).toEqual([
      ['20261203-041500-bbbb', 'alice', 800],
      ['20261203-040000-aaaa', 'alice', 400],
    ]);
    const one = lab.read('20261203-041500-bbbb')!;
    expect(one.depth).toEqual([
      { t: 0, ready: 0 },
      { t: 0.5, ready: 350 },
    ]);
    expect(one.predicted.peakDepth).toBe(700);
    expect(lab.read('20261203-050000-dddd')).toBeUndefined();
    expect(lab.read('../../etc/passwd')).toBeUndefined();
    expect(lab.check({ requests: 0 })).toHaveProperty('problems');
  });

  it('names runs by their start and keeps the console configuration out of the runner', () => {
    expect(RUN_ID.test('20261203-044501-a1b2')).toBe(true);
    expect(RUN_ID.test('20261203-044501-a1b2/..')).toBe(false);
    const env = runnerEnv({
      PATH: '/bin',
      PORT: '3007',
      HOST: '0.0.0.0',
      ORDERS_URL: 'http://x',
      RABBITMQ_VHOST: 'messaging',
      LAB_ALLOWED: '1',
      CONSOLE_RABBITMQ_USER: 'console',
      FAULTS_ALLOWED: '1',
      RABBITMQ_MANAGEMENT_URL: 'http://127.0.0.1:15672',
    });
    expect(env).toEqual({ PATH: '/bin', RABBITMQ_MANAGEMENT_URL: 'http://127.0.0.1:15672' });
  });

  it('reads the depth file and the key figures of a report', () => {
    expect(parseDepthCsv('t_s,ready,consumers\n0.1,5,1\nbad\n')).toEqual([{ t: 0.1, ready: 5 }]);
    const summary = summaryOf({
      requests: 400,
      accepted: 150,
      rejected503: 240,
      errorsByKind: { http_503: 240, timeout: 10 },
      retryAfterValues: ['1'],
      allSagasEnded: true,
      drainSeconds: null,
    });
    expect(summary).toMatchObject({ accepted: 150, rejected503: 240, otherErrors: 10, drainSeconds: null });
    expect(summary.retryAfterValues).toEqual(['1']);
  });
});
