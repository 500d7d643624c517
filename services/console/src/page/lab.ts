import type {
  LabOverview,
  LabParams,
  LabPoint,
  LabRun,
  LabSummary,
  LabUpdate,
  SavedLabRun,
  SavedLabRunDetail,
} from '../lab-types.js';
import { fmt, h, s, show } from './dom.js';

/**
 * The burst lab's view: a form that starts a burst (the load-leveling experiment, in a world of its own), the run
 * drawn live (the measured depth over the predicted fill-and-drain curve, the answers and latencies so far), its
 * summary, and two saved runs side by side.
 */
let current: LabRun | undefined;
let saved: SavedLabRun[] = [];
const picked = new Set<string>();

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
/** The page's own writes: the session cookie stands for the token only with this header (session-cookie.ts). */
const WRITE = { 'x-control-room': '1' };

export function setupLab(): void {
  byId<HTMLFormElement>('lab-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void startRun();
  });
  byId('lab-compare-button').addEventListener('click', () => void compare());
  void refreshRuns();
}

/** A `lab` event of the stream: the whole run, or what changed in it. */
export function labUpdate(update: LabUpdate): void {
  if (update.kind === 'run') {
    const ended = current?.id === update.run.id && current.status === 'running' && update.run.status !== 'running';
    current = update.run;
    if (ended || update.run.status !== 'running') void refreshRuns();
  } else if (!current || current.id !== update.id) return;
  else if (update.kind === 'phase') {
    current.phase = update.phase;
    current.message = update.message;
  } else if (update.kind === 'start') current.predicted = update.predicted;
  else {
    current.depth.push(...update.sample.depth);
    current.latest = update.sample;
  }
  renderRun();
}

async function startRun(): Promise<void> {
  const number = (id: string) => Number(byId<HTMLInputElement>(id).value);
  const params: LabParams = {
    requests: number('lab-requests'),
    durationMs: number('lab-duration'),
    capacity: number('lab-capacity'),
    maxLength: number('lab-bound'),
    prefetch: number('lab-prefetch'),
  };
  const answer = await fetch('/api/lab/runs', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...WRITE },
    body: JSON.stringify(params),
  }).catch(() => undefined);
  const body = (await answer?.json().catch(() => ({}))) as LabRun & { reason?: string; message?: unknown };
  const message = byId('lab-message');
  message.className = answer?.ok ? 'ok' : 'error';
  if (!answer) message.textContent = 'the console is not answering';
  else if (!answer.ok) message.textContent = `refused (${answer.status}): ${reasonOf(body)}`;
  else {
    message.textContent = `run ${body.id} started`;
    if (!current || current.id !== body.id) current = body;
    renderRun();
  }
}

function reasonOf(body: { reason?: string; message?: unknown } | undefined): string {
  if (typeof body?.reason === 'string') return body.reason;
  if (Array.isArray(body?.message)) return body.message.join('; ');
  return typeof body?.message === 'string' ? body.message : '';
}

async function refreshRuns(): Promise<void> {
  const answer = await fetch('/api/lab/runs').catch(() => undefined);
  const body = (await answer?.json().catch(() => ({}))) as LabOverview & { reason?: string };
  if (!answer?.ok) {
    byId<HTMLButtonElement>('lab-start').disabled = answer?.status === 403;
    byId('lab-note').textContent = answer ? `${reasonOf(body)}` : 'the console is not answering';
    return;
  }
  byId('lab-note').textContent = `runs are kept in ${body.resultsDir}`;
  saved = body.runs;
  if (body.current && (!current || current.id !== body.current.id)) current = body.current;
  renderRun();
  renderSaved();
}

/** The current (or last) run: its state, the depth chart, the figures so far, and the summary once done. */
function renderRun(): void {
  if (!current) return show('lab-live', h('p', { class: 'dim' }, 'no run yet: choose a burst and run it'));
  const run = current;
  const p = run.params;
  const latest = run.latest;
  const predicted = run.predicted;
  const lines = [
    {
      name: 'predicted',
      color: '#8595a8',
      dashed: true,
      points: predicted?.points ?? [],
    },
    { name: 'measured', color: '#3fb950', points: run.depth.map((d) => ({ t: d.t, v: d.ready })) },
  ];
  const retry = latest?.retryAfter ? ` (Retry-After: ${latest.retryAfter} s)` : '';
  const pct = (x: { p50Ms: number; p95Ms: number; p99Ms: number } | null | undefined) =>
    x ? `${fmt.count(x.p50Ms)} / ${fmt.count(x.p95Ms)} / ${fmt.count(x.p99Ms)} ms` : '–';
  show(
    'lab-live',
    h(
      'p',
      { id: 'lab-status', 'data-status': run.status, 'data-run': run.id },
      h('b', {}, `run ${run.id}`),
      ` by ${run.operator}: ${p.requests.toLocaleString('en')} orders in ${p.durationMs / 1000} s, workers at ${p.capacity}/s, `,
      p.maxLength ? `queue bounded at ${p.maxLength.toLocaleString('en')}` : 'no queue bound',
      ' · ',
      h('span', { class: run.status === 'failed' ? 'bad' : run.status === 'done' ? 'ok' : 'warn' }, run.status),
      run.status === 'running' ? ` · ${run.phase}: ${run.message}` : '',
      run.reason ? h('span', { class: 'bad' }, ` · ${run.reason}`) : '',
    ),
    predicted
      ? h(
          'p',
          { class: 'dim', id: 'lab-predicted' },
          `predicted: peak ${fmt.count(predicted.peakDepth)} ready messages, empty ${predicted.drainSeconds.toFixed(1)} s after the burst`,
          predicted.boundReachedSeconds !== null
            ? `, the bound reached after ${predicted.boundReachedSeconds.toFixed(2)} s and about ${fmt.count(predicted.refused)} refused with 503`
            : '',
        )
      : '',
    depthChart(lines, p.maxLength ? [{ v: p.maxLength, label: `bound ${p.maxLength}` }] : [], 'lab-chart'),
    h(
      'table',
      { class: 'lab-figures' },
      figureRow(
        'requests due / answered',
        `${fmt.count(latest?.scheduled)} / ${fmt.count(latest?.answered)}`,
        'answered',
      ),
      figureRow('accepted (202)', fmt.count(latest?.accepted), 'accepted'),
      figureRow('refused (503)', `${fmt.count(latest?.rejected503)}${retry}`, 'rejected'),
      figureRow('other errors', fmt.count(latest?.otherErrors), 'other'),
      figureRow('intake latency p50 / p95 / p99', pct(latest?.intake), 'intake'),
      figureRow(
        'stored by the worker / sagas ended',
        `${fmt.count(latest?.stored)} / ${fmt.count(latest?.decided)}`,
        'stored',
      ),
      figureRow('POST to saga end p50 / p95 / p99', pct(latest?.confirm), 'confirm'),
      figureRow(
        'blocked connections',
        latest?.blockedConnections === null || latest?.blockedConnections === undefined
          ? 'not read'
          : fmt.count(latest.blockedConnections),
        'blocked',
      ),
    ),
    run.summary ? summaryTable([{ title: `run ${run.id}`, summary: run.summary }], 'lab-summary') : '',
  );
}

function figureRow(label: string, value: string, key: string): HTMLElement {
  return h('tr', {}, h('th', {}, label), h('td', { class: 'num', 'data-figure': key }, value));
}

/** Key figures of one or more runs, a column each, measured beside predicted. */
function summaryTable(runs: { title: string; summary: LabSummary }[], id: string): HTMLElement {
  const row = (label: string, key: string, value: (x: LabSummary) => string) =>
    h('tr', { 'data-key': key }, h('th', {}, label), ...runs.map((r) => h('td', { class: 'num' }, value(r.summary))));
  const seconds = (n: number | null) => (n === null ? '–' : `${n.toFixed(1)} s`);
  return h(
    'table',
    { id, class: 'lab-summary' },
    h('tr', {}, h('th', {}, ''), ...runs.map((r) => h('th', {}, r.title))),
    row('accepted (202) of requests', 'accepted', (x) => `${fmt.count(x.accepted)} of ${fmt.count(x.requests)}`),
    row(
      'refused (503), predicted',
      'rejected',
      (x) => `${fmt.count(x.rejected503)} (${fmt.count(x.predictedRefused)})`,
    ),
    row('503s with Retry-After', 'retry-after', (x) =>
      x.rejected503 ? `${fmt.count(x.rejectedWithRetryAfter)} (${x.retryAfterValues.join(', ')} s)` : '–',
    ),
    row('other errors', 'other', (x) => fmt.count(x.otherErrors)),
    row('peak depth, predicted', 'peak', (x) => `${fmt.count(x.peakDepth)} (${fmt.count(x.predictedPeakDepth)})`),
    row(
      'empty after the burst, predicted',
      'drain',
      (x) => `${seconds(x.drainSeconds)} (${seconds(x.predictedDrainSeconds)})`,
    ),
    row('processing rate', 'rate', (x) => `${fmt.count(x.processingRatePerSecond)}/s`),
    row('intake p50 / p95 / p99', 'intake', (x) => `${x.intakeP50Ms} / ${x.intakeP95Ms} / ${x.intakeP99Ms} ms`),
    row(
      'POST to saga end p50 / p95 / p99',
      'confirm',
      (x) => `${fmt.count(x.confirmP50Ms)} / ${fmt.count(x.confirmP95Ms)} / ${fmt.count(x.confirmP99Ms)} ms`,
    ),
    row('accepted orders lost', 'lost', (x) => fmt.count(x.lost)),
    row('sagas ended', 'ended', (x) => `${fmt.count(x.sagasEnded)}${x.allSagasEnded ? ' (all)' : ' (not all)'}`),
    row('blocked connections (peak)', 'blocked', (x) =>
      x.blockedConnectionsPeak === null ? 'not read' : fmt.count(x.blockedConnectionsPeak),
    ),
  );
}

/** The saved runs, newest first, each with a box to pick it for the comparison. */
function renderSaved(): void {
  for (const id of [...picked]) if (!saved.some((r) => r.id === id)) picked.delete(id);
  const rows = saved.map((run) => {
    const box = h('input', { type: 'checkbox', 'data-pick': run.id, checked: picked.has(run.id) }) as HTMLInputElement;
    box.addEventListener('change', () => {
      if (box.checked) picked.add(run.id);
      else picked.delete(run.id);
      if (picked.size > 2) {
        const oldest = [...picked][0]!;
        picked.delete(oldest);
        const other = document.querySelector<HTMLInputElement>(`input[data-pick="${oldest}"]`);
        if (other) other.checked = false;
      }
      byId<HTMLButtonElement>('lab-compare-button').disabled = picked.size !== 2;
    });
    const p = run.params;
    const x = run.summary;
    return h(
      'tr',
      { 'data-saved-run': run.id },
      h('td', {}, box),
      h('td', {}, run.id),
      h('td', {}, run.operator),
      h('td', {}, fmt.time(run.ranAt)),
      h('td', { class: 'num' }, `${fmt.count(p.requests)} in ${p.durationMs / 1000} s`),
      h('td', { class: 'num' }, `${fmt.count(p.capacity)}/s`),
      h('td', { class: 'num' }, p.maxLength ? fmt.count(p.maxLength) : 'none'),
      h('td', { class: 'num' }, fmt.count(x.accepted)),
      h('td', { class: 'num' }, fmt.count(x.rejected503)),
      h('td', { class: 'num' }, `${fmt.count(x.peakDepth)} (${fmt.count(x.predictedPeakDepth)})`),
      h('td', { class: 'num' }, `${x.intakeP99Ms} ms`),
    );
  });
  byId<HTMLButtonElement>('lab-compare-button').disabled = picked.size !== 2;
  show(
    'lab-runs',
    saved.length
      ? h(
          'table',
          {},
          h(
            'tr',
            {},
            ...['', 'run', 'by', 'at', 'burst', 'workers', 'bound', '202', '503', 'peak (predicted)', 'intake p99'].map(
              (t) => h('th', {}, t),
            ),
          ),
          ...rows,
        )
      : h('p', { class: 'dim' }, 'none saved yet'),
  );
}

const PAIR = ['#58a6ff', '#f778ba'];

/** The two picked runs together: their measured and predicted depth on one chart, their key figures side by side. */
async function compare(): Promise<void> {
  const ids = [...picked].sort();
  const details = await Promise.all(
    ids.map(async (id) => {
      const answer = await fetch(`/api/lab/runs/${encodeURIComponent(id)}`);
      return answer.ok ? ((await answer.json()) as SavedLabRunDetail) : undefined;
    }),
  );
  if (details.some((d) => !d)) return show('lab-compare', h('p', { class: 'error' }, 'a run could not be read'));
  const runs = details as SavedLabRunDetail[];
  const title = (r: SavedLabRunDetail) =>
    `${r.id}: ${fmt.count(r.params.requests)} in ${r.params.durationMs / 1000} s, ${r.params.capacity}/s${r.params.maxLength ? `, bound ${r.params.maxLength}` : ''}`;
  show(
    'lab-compare',
    h('h3', {}, 'Side by side'),
    depthChart(
      runs.flatMap((r, i) => [
        { name: `${r.id} predicted`, color: PAIR[i]!, dashed: true, points: r.predicted.points },
        { name: `${r.id} measured`, color: PAIR[i]!, points: r.depth.map((d) => ({ t: d.t, v: d.ready })) },
      ]),
      runs
        .filter((r) => r.params.maxLength)
        .map((r) => ({ v: r.params.maxLength, label: `bound ${r.params.maxLength}` })),
      'lab-compare-chart',
      1100,
    ),
    summaryTable(
      runs.map((r) => ({ title: title(r), summary: r.summary })),
      'lab-compare-table',
    ),
  );
}

/** Queue depth over seconds since the burst started: several lines (dashed: predicted), horizontal marks (bounds). */
function depthChart(
  lines: { name: string; color: string; points: LabPoint[]; dashed?: boolean }[],
  marks: { v: number; label: string }[],
  id: string,
  width = 760,
  height = 240,
): SVGElement {
  const [left, right, top, bottom] = [48, 12, 10, 34];
  const maxT = Math.max(1, ...lines.flatMap((l) => l.points.map((p) => p.t)));
  const maxV = Math.max(10, ...lines.flatMap((l) => l.points.map((p) => p.v)), ...marks.map((m) => m.v)) * 1.05;
  const x = (t: number) => (left + (Math.max(0, t) / maxT) * (width - left - right)).toFixed(1);
  const y = (v: number) => (top + (1 - v / maxV) * (height - top - bottom)).toFixed(1);
  const tickT = niceStep(maxT);
  const tickV = niceStep(maxV);
  const ticksT = Array.from({ length: Math.floor(maxT / tickT) + 1 }, (_, i) => i * tickT);
  const ticksV = Array.from({ length: Math.floor(maxV / tickV) + 1 }, (_, i) => i * tickV);
  return s(
    'svg',
    { class: 'lab-chart', id, width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' },
    ...ticksV.map((v) =>
      s(
        'g',
        {},
        s('line', { class: 'grid', x1: left, x2: width - right, y1: y(v), y2: y(v) }),
        s('text', { x: left - 4, y: Number(y(v)) + 4, 'text-anchor': 'end' }, fmt.count(v)),
      ),
    ),
    ...ticksT.map((t) => s('text', { x: x(t), y: height - bottom + 14, 'text-anchor': 'middle' }, `${t} s`)),
    ...marks.map((m) =>
      s(
        'g',
        { class: 'bound' },
        s('line', { x1: left, x2: width - right, y1: y(m.v), y2: y(m.v) }),
        s('text', { x: width - right - 4, y: Number(y(m.v)) - 3, 'text-anchor': 'end' }, m.label),
      ),
    ),
    ...lines.map((line) =>
      s('polyline', {
        'data-series': line.name,
        'data-points': line.points.length,
        'data-max': Math.max(0, ...line.points.map((p) => p.v)),
        stroke: line.color,
        'stroke-dasharray': line.dashed ? '5 4' : undefined,
        points: line.points.map((p) => `${x(p.t)},${y(p.v)}`).join(' '),
      }),
    ),
    ...legend(lines, left + 8, width - right, height - 4),
    s('text', { x: 4, y: top + 2 }, 'ready'),
  );
}

/** The lines' names in a row under the chart, each as wide as its text (about 6.5 px a character). */
function legend(lines: { name: string; color: string; dashed?: boolean }[], from: number, to: number, y: number) {
  let x = from;
  return lines.map((line) => {
    const label = `${line.dashed ? '- - ' : '— '}${line.name}`;
    const at = x;
    x = Math.min(to, x + label.length * 6.5 + 16);
    return s('text', { x: at, y, fill: line.color }, label);
  });
}

/** A 1-2-5 step giving about five ticks up to `max`. */
function niceStep(max: number): number {
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}
