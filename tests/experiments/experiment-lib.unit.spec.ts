import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../experiments/src/lib/args.js';
import { runOpenLoad } from '../../experiments/src/lib/load-generator.js';
import { percentile, ratePerSecond, summarize } from '../../experiments/src/lib/stats.js';
import { niceStep, renderChart } from '../../experiments/src/lib/svg-chart.js';

describe('stats', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([], 50)).toBeNaN();
    expect(summarize([3, 1, 2])).toMatchObject({ count: 3, p50Ms: 2, maxMs: 3 });
  });

  it('turns event times into a rate per second per bucket', () => {
    const start = 1_000;
    const times = [1_000, 1_050, 1_099, 1_100, 1_250];
    expect(ratePerSecond(times, start, 300, 100)).toEqual([
      { t: 0, v: 30 },
      { t: 0.1, v: 10 },
      { t: 0.2, v: 10 },
    ]);
  });
});

describe('svg chart', () => {
  it('picks 1-2-5 axis steps', () => {
    expect(niceStep(9_000, 5)).toBe(2_000);
    expect(niceStep(10, 10)).toBe(1);
    expect(niceStep(0)).toBe(1);
  });

  it('renders panels, series, marks and escapes text', () => {
    const svg = renderChart({
      title: 'depth <&> rate',
      xLabel: 's',
      panels: [
        {
          yLabel: 'depth',
          series: [
            {
              name: 'measured',
              color: '#000',
              points: [
                { t: 0, v: 0 },
                { t: 1, v: 9_000 },
                { t: 10, v: 0 },
              ],
            },
          ],
          marks: [{ v: 9_000, label: 'predicted' }],
        },
      ],
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('depth &lt;&amp;&gt; rate');
    expect(svg).toContain('<path d="M');
    expect(svg).toContain('predicted');
    expect(svg.trim().endsWith('</svg>')).toBe(true);
  });
});

describe('args', () => {
  it('reads numbers and flags over defaults', () => {
    expect(parseArgs({ requests: 10, skipSync: false }, ['--requests', '5', '--skip-sync'])).toEqual({
      requests: 5,
      skipSync: true,
    });
    expect(() => parseArgs({ requests: 10 }, ['--nope'])).toThrow(/unknown option/);
  });
});

describe('open-model load generator', () => {
  let server: Server;
  let baseUrl: string;

  beforeAll(async () => {
    // Every answer takes 300 ms: a closed-model generator with few users would slow down to match.
    server = createServer((req, res) => {
      req.resume();
      setTimeout(() => res.writeHead(req.url === '/slow' ? 202 : 503, { 'retry-after': '1' }).end('{"ok":true}'), 300);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends on schedule whatever the answers take, and records status, latency and bodies', async () => {
    const { start, results } = await runOpenLoad({
      baseUrl,
      requests: 100,
      durationMs: 200,
      request: (i) => ({ method: 'POST', path: i % 2 === 0 ? '/slow' : '/refused', body: { i } }),
      keepBody: (status) => status === 202,
    });
    expect(results).toHaveLength(100);
    // All 100 left on their schedule, before the first answer came back (every answer takes 300 ms): the sends
    // never wait for answers. Compared with the first answer rather than a fixed bound, so a loaded machine whose
    // timers run late cannot fail it.
    const lastSent = Math.max(...results.map((r) => r.sentAt)) - start;
    const firstAnswer = Math.min(...results.map((r) => r.sentAt + r.latencyMs)) - start;
    expect(lastSent).toBeLessThan(firstAnswer);
    expect(results.filter((r) => r.status === 202)).toHaveLength(50);
    expect(results.filter((r) => r.status === 503).every((r) => r.retryAfter === '1')).toBe(true);
    expect(results[0]!.body).toEqual({ ok: true });
    expect(results[1]!.body).toBeUndefined();
    for (const r of results) expect(r.latencyMs).toBeGreaterThanOrEqual(295);
  });

  it('counts a request without an answer in time as a timeout', async () => {
    const { results } = await runOpenLoad({
      baseUrl,
      requests: 3,
      durationMs: 10,
      timeoutMs: 50,
      request: () => ({ method: 'GET', path: '/slow' }),
    });
    expect(results.map((r) => [r.status, r.error])).toEqual([
      [0, 'timeout'],
      [0, 'timeout'],
      [0, 'timeout'],
    ]);
  });
});
