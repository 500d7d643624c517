import { fmt, h, show } from './dom.js';

/**
 * The Offsets view: each Kafka consumer group's state (Kafka's word: a group with members runs), a reset previewed per
 * partition before it is done, and the analytics rebuild from offset 0 with its progress. The services decide: the
 * reset button follows the last preview (enabled only when the service said it would reset now), and a reset the
 * service refuses anyway (the group started meanwhile) shows its 409 reason.
 */

interface GroupState {
  group: string;
  topics: string[];
  positions: 'kafka' | 'database';
  kind: 'idempotent' | 'read-model' | 'no-rewind';
  state: string;
  members: number;
  stopped: boolean;
}

interface PartitionPlan {
  topic: string;
  partition: number;
  low: number;
  high: number;
  stored: number | null;
  kafkaCommitted?: number | null;
  current: number;
  target: number;
  reRead: number;
  skip: number;
}

interface ResetPreview extends GroupState {
  service: string;
  to: string;
  mode: 'none' | 'move' | 'rebuild';
  partitions: PartitionPlan[];
  reRead: number;
  skip: number;
  summary: string;
  meaning: string;
  refusal?: string;
}

interface Totals {
  ordersCreated: number;
  ordersConfirmed: number;
  ordersCancelled: number;
  revenue: number;
}

interface RebuildState {
  phase: 'idle' | 'replaying' | 'swapping' | 'done' | 'failed';
  by?: string;
  startedAt?: string;
  finishedAt?: string;
  partitions?: { partition: number; low: number; position: number; high: number }[];
  events?: number;
  percent?: number;
  eventsPerSecond?: number;
  error?: string;
  result?: { events: number; seconds: number; live: Totals; rebuilt: Totals; ordersDiffering: number; equal: boolean };
}

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
/** The page's own writes: the session cookie stands for the token only with this header (session-cookie.ts). */
const WRITE = { 'content-type': 'application/json', 'x-control-room': '1' };

let groups: (GroupState & { service: string })[] = [];
let lastPreview: ResetPreview | undefined;
let rebuildTimer: number | undefined;

/** The reason in an error body: the services say `reason` or `message` (a string, or a list of problems). */
function reasonOf(body: { reason?: unknown; message?: unknown } | undefined): string {
  if (typeof body?.reason === 'string') return body.reason;
  if (Array.isArray(body?.message)) return body.message.join('; ');
  return typeof body?.message === 'string' ? body.message : '';
}

async function getJson<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T } | undefined> {
  const answer = await fetch(url, init).catch(() => undefined);
  if (!answer) return undefined;
  return { status: answer.status, body: (await answer.json().catch(() => ({}))) as T };
}

export function startOffsets(): void {
  byId<HTMLFormElement>('offset-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void preview();
  });
  byId('offset-to').addEventListener('change', () => {
    byId('offset-time').hidden = byId<HTMLSelectElement>('offset-to').value !== 'time';
  });
  byId('offset-group').addEventListener('change', () => {
    lastPreview = undefined;
    renderPreview();
  });
  byId('offset-reset').addEventListener('click', () => void reset());
  byId('rebuild-start').addEventListener('click', () => void startRebuild());
  void refreshGroups();
  window.setInterval(() => void refreshGroups(), 4000);
  void refreshRebuild();
}

async function refreshGroups(): Promise<void> {
  if (document.hidden) return;
  const answer = await getJson<{
    services?: { service: string; answered: boolean; groups: GroupState[]; error?: string }[];
    reason?: string;
  }>('/api/consumer-groups');
  if (!answer?.body.services) {
    show('offset-groups', h('p', { class: 'stale-marker' }, `stale: ${answer ? answer.status : 'no answer'}`));
    return;
  }
  const services = answer.body.services;
  groups = services.flatMap((s) => s.groups.map((g) => ({ ...g, service: s.service })));
  const select = byId<HTMLSelectElement>('offset-group');
  const names = groups.map((g) => g.group);
  if ([...select.options].map((o) => o.value).join() !== names.join()) {
    const chosen = select.value;
    select.replaceChildren(...groups.map((g) => new Option(`${g.group} (${g.service})`, g.group)));
    if (names.includes(chosen)) select.value = chosen;
  }
  const kinds = {
    idempotent: 'idempotent consumer (inbox)',
    'read-model': 'read model',
    'no-rewind': 'output cannot be taken back',
  };
  show(
    'offset-groups',
    h(
      'table',
      {},
      h(
        'tr',
        {},
        ...['group', 'service', 'reads', 'positions in', 'what reading again means', 'state'].map((t) =>
          h('th', {}, t),
        ),
      ),
      ...groups.map((g) =>
        h(
          'tr',
          { 'data-group-state': g.group, 'data-stopped': String(g.stopped) },
          h('td', {}, h('b', {}, g.group)),
          h('td', {}, g.service),
          h('td', {}, g.topics.join(', ')),
          h('td', {}, g.positions === 'database' ? `${g.service}'s database` : 'Kafka'),
          h('td', {}, kinds[g.kind]),
          h(
            'td',
            { class: g.stopped ? 'warn' : 'ok' },
            g.stopped
              ? `stopped (${g.state})`
              : `running: ${g.members} member${g.members === 1 ? '' : 's'} (${g.state})`,
          ),
        ),
      ),
      ...services
        .filter((s) => !s.answered)
        .map((s) =>
          h('tr', {}, h('td', { colspan: 6, class: 'stale-marker' }, `${s.service} did not answer: ${s.error ?? ''}`)),
        ),
    ),
  );
  // The state changed since the preview: say so (the button still follows the preview; the service decides).
  const shown = groups.find((g) => g.group === lastPreview?.group);
  byId('offset-note').textContent =
    lastPreview && shown && shown.stopped !== lastPreview.stopped
      ? `${shown.group} is ${shown.stopped ? 'stopped' : 'running'} now, not as previewed: preview again`
      : '';
}

/** The `to` the form asks for: earliest, latest, or the chosen local time as an ISO time. */
function chosenTo(): string | undefined {
  const to = byId<HTMLSelectElement>('offset-to').value;
  if (to !== 'time') return to;
  const local = byId<HTMLInputElement>('offset-time').value;
  const at = new Date(local);
  return local && !Number.isNaN(at.getTime()) ? at.toISOString() : undefined;
}

async function preview(): Promise<void> {
  const group = byId<HTMLSelectElement>('offset-group').value;
  const to = chosenTo();
  const message = byId('offset-message');
  if (!group || !to) {
    message.className = 'error';
    message.textContent = !group ? 'choose a group' : 'choose a time';
    return;
  }
  const answer = await getJson<ResetPreview & { reason?: string }>(
    `/api/consumer-groups/${encodeURIComponent(group)}/reset-preview?to=${encodeURIComponent(to)}`,
  );
  if (!answer || answer.status !== 200) {
    lastPreview = undefined;
    message.className = 'error';
    message.textContent = answer ? `preview refused (${answer.status}): ${reasonOf(answer.body)}` : 'no answer';
    renderPreview();
    return;
  }
  lastPreview = answer.body;
  byId('offset-note').textContent = '';
  renderPreview();
}

function renderPreview(): void {
  const p = lastPreview;
  const button = byId<HTMLButtonElement>('offset-reset');
  button.disabled = !p || p.refusal !== undefined || p.mode === 'none';
  if (!p) {
    show('offset-preview');
    return;
  }
  const effect = (x: PartitionPlan) =>
    x.reRead > 0 ? `${fmt.count(x.reRead)} to re-read` : x.skip > 0 ? `${fmt.count(x.skip)} to skip` : 'unchanged';
  show(
    'offset-preview',
    h(
      'p',
      {},
      h('b', {}, p.group),
      ` (${p.service}) to ${p.to}: `,
      h('span', { class: 'summary', 'data-re-read': p.reRead, 'data-skip': p.skip }, p.summary),
    ),
    h('p', { class: 'dim meaning' }, p.meaning),
    p.refusal
      ? h('p', { class: 'warn refusal' }, `A reset would be refused now: ${p.refusal}`)
      : h('p', { class: 'ok' }, `Kafka says the group is stopped (${p.state}): the reset is allowed.`),
    h(
      'table',
      {},
      h(
        'tr',
        {},
        ...[
          'topic',
          'partition',
          'first offset',
          'end',
          p.positions === 'database' ? 'stored position (database)' : 'committed',
          ...(p.positions === 'database' ? ["Kafka's committed (hint)"] : []),
          'reads next',
          'target',
          'records',
        ].map((t) => h('th', {}, t)),
      ),
      ...p.partitions.map((x) =>
        h(
          'tr',
          { 'data-partition': `${x.topic}/${x.partition}`, 'data-re-read': x.reRead, 'data-skip': x.skip },
          h('td', {}, x.topic),
          h('td', { class: 'num' }, x.partition),
          h('td', { class: 'num' }, fmt.count(x.low)),
          h('td', { class: 'num' }, fmt.count(x.high)),
          h('td', { class: 'num' }, x.stored === null ? 'none' : fmt.count(x.stored)),
          ...(p.positions === 'database'
            ? [h('td', { class: 'num' }, x.kafkaCommitted == null ? 'none' : fmt.count(x.kafkaCommitted))]
            : []),
          h('td', { class: 'num' }, fmt.count(x.current)),
          h('td', { class: 'num target' }, fmt.count(x.target)),
          h('td', { class: x.reRead > 0 ? 'warn' : x.skip > 0 ? 'bad' : 'dim' }, effect(x)),
        ),
      ),
    ),
  );
}

async function reset(): Promise<void> {
  const p = lastPreview;
  if (!p) return;
  const message = byId('offset-message');
  const answer = await getJson<{ summary?: string; to?: string; by?: string; reason?: string; message?: unknown }>(
    `/api/consumer-groups/${encodeURIComponent(p.group)}/reset`,
    { method: 'POST', headers: WRITE, body: JSON.stringify({ to: p.to }) },
  );
  message.className = answer?.status === 200 ? 'ok' : 'error';
  message.textContent = !answer
    ? 'the console is not answering'
    : answer.status === 200
      ? `${p.group} reset to ${answer.body.to ?? p.to} by ${answer.body.by ?? ''}: ${answer.body.summary ?? ''}`
      : `refused (${answer.status}): ${reasonOf(answer.body)}`;
  message.dataset.status = String(answer?.status ?? 0);
  // The positions as they are now (after a reset: at the target; after a refusal: the group's state).
  await preview();
  void refreshGroups();
}

async function startRebuild(): Promise<void> {
  const message = byId('rebuild-message');
  const answer = await getJson<RebuildState & { reason?: string }>('/api/analytics/rebuild', {
    method: 'POST',
    headers: WRITE,
    body: '{}',
  });
  message.className = answer?.status === 202 ? 'ok' : 'error';
  message.dataset.status = String(answer?.status ?? 0);
  message.textContent = !answer
    ? 'the console is not answering'
    : answer.status === 202
      ? `rebuild started by ${answer.body.by ?? ''}`
      : `refused (${answer.status}): ${reasonOf(answer.body)}`;
  void refreshRebuild();
}

async function refreshRebuild(): Promise<void> {
  window.clearTimeout(rebuildTimer);
  const answer = await getJson<RebuildState & { reason?: string }>('/api/analytics/rebuild');
  const state = answer?.status === 200 ? answer.body : undefined;
  renderRebuild(state, answer ? `${answer.status}: ${reasonOf(answer.body)}` : 'no answer');
  const running = state?.phase === 'replaying' || state?.phase === 'swapping';
  rebuildTimer = window.setTimeout(() => void refreshRebuild(), running ? 500 : 5000);
}

function renderRebuild(state: RebuildState | undefined, error: string): void {
  const bar = byId<HTMLProgressElement>('rebuild-progress');
  const running = state?.phase === 'replaying' || state?.phase === 'swapping';
  byId<HTMLButtonElement>('rebuild-start').disabled = running;
  if (!state) {
    show('rebuild', h('p', { class: 'stale-marker' }, `analytics: ${error}`));
    return;
  }
  bar.value = state.percent ?? 0;
  byId('rebuild-percent').textContent = state.phase === 'idle' ? '' : `${state.percent ?? 0} %`;
  const phase = byId('rebuild-phase');
  phase.dataset.phase = state.phase;
  phase.textContent =
    state.phase === 'idle'
      ? 'no rebuild since analytics started'
      : state.phase === 'replaying'
        ? `replaying order-events into a shadow table, ${fmt.count(state.eventsPerSecond)} events/s`
        : state.phase === 'swapping'
          ? 'swapping: the live table is locked while the last events are read'
          : state.phase === 'done'
            ? `done at ${fmt.time(state.finishedAt ?? '')}, started by ${state.by ?? ''}`
            : `failed: ${state.error ?? ''}`;
  if (state.phase === 'idle') {
    show('rebuild');
    return;
  }
  const parts = h(
    'table',
    {},
    h('tr', {}, ...['partition', 'read', 'of', ''].map((t) => h('th', {}, t))),
    ...(state.partitions ?? []).map((p) =>
      h(
        'tr',
        { 'data-rebuild-partition': p.partition },
        h('td', { class: 'num' }, p.partition),
        h('td', { class: 'num' }, fmt.count(Math.max(0, Math.min(p.position, p.high) - p.low))),
        h('td', { class: 'num' }, fmt.count(Math.max(0, p.high - p.low))),
        h('td', { class: 'dim' }, `offsets ${p.low}–${p.high}`),
      ),
    ),
  );
  const result = state.result;
  const figures: [keyof Totals, string][] = [
    ['ordersCreated', 'orders'],
    ['ordersConfirmed', 'confirmed'],
    ['ordersCancelled', 'cancelled'],
    ['revenue', 'revenue (cents)'],
  ];
  show(
    'rebuild',
    parts,
    result
      ? h(
          'div',
          { class: 'comparison' },
          h(
            'table',
            {},
            h('tr', {}, ...['', 'live read model before', 'rebuilt from the log'].map((t) => h('th', {}, t))),
            ...figures.map(([key, label]) =>
              h(
                'tr',
                { 'data-figure': key, class: result.live[key] === result.rebuilt[key] ? undefined : 'differs' },
                h('td', {}, label),
                h('td', { class: 'num live' }, fmt.count(result.live[key])),
                h('td', { class: 'num rebuilt' }, fmt.count(result.rebuilt[key])),
              ),
            ),
          ),
          h(
            'p',
            { class: result.equal ? 'ok' : 'warn', 'data-equal': String(result.equal) },
            `${fmt.count(result.events)} events in ${result.seconds.toFixed(1)} s. `,
            result.equal
              ? 'The live read model already was what the log says.'
              : `${fmt.count(result.ordersDiffering)} orders differed; the live read model is now the rebuilt one.`,
          ),
        )
      : '',
  );
}
