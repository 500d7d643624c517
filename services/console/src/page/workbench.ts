import { fmt, h, show } from './dom.js';
import { diffStats, lineDiff } from './line-diff.js';

/**
 * The dead-letter workbench: the dead letters of every dead letter queue and of Kafka's dead letter topic, grouped by
 * failure; a group's letters; one letter inspected (headers, body, its history across replays, the consumer that
 * failed it, its story); its body edited with a line diff against the original and checked by audit before it may be
 * sent; the dry run of every replay shown before it is sent; one letter, a selection or a group's waiting letters
 * replayed, the last at a rate, with the run's progress and a warning when new failures of the same group arrive.
 * Everything goes through the console's `/api/dead-letter*` routes to audit, with the viewer's token.
 */

interface Group {
  fingerprint: string;
  where: string;
  messageType: string | null;
  reason: string;
  count: number;
  waiting: number;
  cameBack: number;
  firstSeen: string;
  lastSeen: string;
  ids: number[];
}

interface Letter {
  id: number;
  queue: string;
  source: 'queue' | 'topic';
  originalQueue: string | null;
  kafka: { topic: string; consumerGroup: string; partition: number; offset: string; replayTopic: string } | null;
  consumer: string | null;
  headers: Record<string, string>;
  messageId: string;
  type: string | null;
  correlationId: string | null;
  reason: string;
  retryCount: number;
  firstFailedAt: string | null;
  lastFailedAt: string | null;
  receivedAt: string;
  replayedAt: string | null;
  replayCount: number;
  replayedBy: string | null;
  cameBackAt: string | null;
  contentBytes: number;
  content?: string | null;
  contentNote?: string;
  history?: Letter[];
}

interface Plan {
  kind: 'queue' | 'topic';
  exchange?: string;
  routingKey?: string;
  record?: { topic: string; key: string; value: string; headers: Record<string, string> };
  messageId: string;
  type?: string | null;
  correlationId?: string | null;
  headers?: Record<string, string | number>;
  body?: string;
  changed?: string[];
}

interface Preview {
  total: number;
  perSecond: number;
  willSend: number;
  estimatedSeconds: number;
  destinations: Record<string, number>;
  skipped: { id: number; reason: string }[];
}

interface Run {
  id: number;
  state: string;
  startedBy: string;
  startedAt: string;
  finishedAt: string | null;
  perSecond: number;
  selection: { kind: 'ids' } | { kind: 'group'; groupId: string; where: string };
  total: number;
  sent: number;
  skipped: number;
  failed: number;
  remaining: number;
  failures: { id: number; reason: string }[];
  cancelledBy: string | null;
  stopReason: string | null;
  newFailures: { count: number; cameBack: number; latestIds: number[]; since: string };
}

/** The page's own writes carry this header (session-cookie.ts). */
const WRITE = { 'x-control-room': '1' };

const state: {
  groups: Group[];
  group?: string;
  letters: Letter[];
  selected: Set<number>;
  letter?: Letter;
  original: string;
  /** The edited text audit last accepted in a check (its dry run), and what it would send. */
  checked?: string;
  run?: Run;
} = { groups: [], letters: [], selected: new Set(), original: '' };

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** The reason in an error body (`reason`, or `message`: a string or a list of problems). */
function reasonOf(body: unknown): string {
  const b = body as { reason?: unknown; message?: unknown } | undefined;
  if (typeof b?.reason === 'string') return b.reason;
  if (Array.isArray(b?.message)) return b.message.join('; ');
  return typeof b?.message === 'string' ? b.message : '';
}

async function api<T>(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<{ ok: boolean; status: number; body: T }> {
  const answer = await fetch(path, {
    method,
    headers: {
      ...(method === 'GET' ? {} : WRITE),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).catch(() => undefined);
  if (!answer) return { ok: false, status: 0, body: { reason: 'the console is not answering' } as T };
  const parsed = (await answer.json().catch(() => ({}))) as T;
  return { ok: answer.ok, status: answer.status, body: parsed };
}

/** Starts the workbench: the groups now and every 3 s, a run's progress every half second while it runs. */
export function startWorkbench(openStory: (id: string) => void): void {
  storyOpener = openStory;
  void refresh();
  window.setInterval(() => void refresh(), 3_000);
  void api<{ runs: Run[] }>('GET', '/api/dead-letter-replays').then((answer) => {
    const running = answer.ok ? answer.body.runs.find((r) => r.state === 'running') : undefined;
    if (running) follow(running);
  });
}

let storyOpener: (id: string) => void = () => undefined;

async function refresh(): Promise<void> {
  if (document.hidden) return;
  const answer = await api<{ groups: Group[]; reason?: string }>('GET', '/api/dead-letter-groups');
  if (!answer.ok) {
    show('dl-groups', h('p', { class: 'stale-marker' }, `stale: ${answer.status} ${reasonOf(answer.body)}`));
    return;
  }
  state.groups = answer.body.groups;
  renderGroups();
  if (state.group) await loadGroup(state.group, false);
}

function renderGroups(): void {
  if (state.groups.length === 0) {
    show('dl-groups', h('p', { class: 'dim' }, 'no dead letters: every message reached its consumer'));
    return;
  }
  show(
    'dl-groups',
    h(
      'table',
      {},
      h(
        'tr',
        {},
        ...['where', 'type', 'failure', 'count', 'waiting', 'came back', 'first seen', 'last seen'].map((t) =>
          h('th', {}, t),
        ),
      ),
      ...state.groups.map((g) => {
        const open = h('a', { 'data-open-group': g.fingerprint, title: `group ${g.fingerprint}` }, g.where);
        open.addEventListener('click', () => void loadGroup(g.fingerprint, true));
        return h(
          'tr',
          { 'data-group-id': g.fingerprint, class: g.fingerprint === state.group ? 'chosen' : undefined },
          h('td', {}, open),
          h('td', {}, g.messageType ?? 'unreadable'),
          h('td', { class: 'reason', title: g.reason }, g.reason),
          h('td', { class: 'num count' }, g.count),
          h('td', { class: `num waiting${g.waiting ? ' bad' : ''}` }, g.waiting),
          h('td', { class: `num came-back${g.cameBack ? ' warn' : ''}` }, g.cameBack),
          h('td', {}, fmt.time(g.firstSeen)),
          h('td', {}, fmt.time(g.lastSeen)),
        );
      }),
    ),
  );
}

async function loadGroup(fingerprint: string, chosen: boolean): Promise<void> {
  if (chosen && state.group !== fingerprint) {
    state.selected.clear();
    show('dl-bulk-preview');
  }
  state.group = fingerprint;
  const answer = await api<{ group: Group; letters: Letter[] }>('GET', `/api/dead-letter-groups/${fingerprint}`);
  if (!answer.ok) {
    show('dl-group', h('p', { class: 'error' }, `${answer.status}: ${reasonOf(answer.body)}`));
    return;
  }
  state.letters = answer.body.letters;
  const present = new Set(state.letters.map((l) => l.id));
  for (const id of state.selected) if (!present.has(id)) state.selected.delete(id);
  renderGroups();
  renderGroup(answer.body.group);
}

function renderGroup(group: Group): void {
  const rows = state.letters.map((letter) => {
    const box = h('input', {
      type: 'checkbox',
      'data-select': letter.id,
      checked: state.selected.has(letter.id),
      disabled: letter.replayedAt !== null,
    }) as HTMLInputElement;
    box.addEventListener('change', () => {
      if (box.checked) state.selected.add(letter.id);
      else state.selected.delete(letter.id);
      byId('dl-bulk-selected').textContent = `replay the ${state.selected.size} selected…`;
    });
    const open = h('a', { 'data-open-letter': letter.id }, `#${letter.id}`);
    open.addEventListener('click', () => void openLetter(letter.id));
    const status = letter.cameBackAt ? 'came back' : letter.replayedAt ? 'replayed' : 'waiting';
    return h(
      'tr',
      { 'data-letter-id': letter.id, 'data-state': status },
      h('td', {}, box),
      h('td', {}, open),
      h('td', {}, letter.messageId.slice(0, 8)),
      h('td', {}, fmt.time(letter.receivedAt)),
      h('td', { class: 'num' }, letter.retryCount),
      h('td', { class: `state ${status === 'waiting' ? 'bad' : status === 'came back' ? 'warn' : 'ok'}` }, status),
      h('td', {}, letter.replayedBy ? `by ${letter.replayedBy} ×${letter.replayCount}` : ''),
    );
  });
  const rate = h('input', { id: 'dl-rate', type: 'number', min: 1, max: 200, value: currentRate(), size: 4 });
  const selected = h('button', { id: 'dl-bulk-selected' }, `replay the ${state.selected.size} selected…`);
  selected.addEventListener('click', () => void previewBulk({ ids: [...state.selected] }));
  const all = h('button', { id: 'dl-bulk-group' }, `replay the group's ${group.waiting} waiting…`);
  all.addEventListener('click', () => void previewBulk({ groupId: group.fingerprint }));
  show(
    'dl-group',
    h(
      'h3',
      {},
      `${group.where} · ${group.messageType ?? 'unreadable'} · ${group.count} dead letters, ${group.waiting} waiting`,
    ),
    h('p', { class: 'reason' }, group.reason),
    h(
      'div',
      { class: 'bulk' },
      h('label', {}, 'rate ', rate, ' per second'),
      selected,
      all,
      h('span', { class: 'dim' }, ' a dry run is shown first; nothing is sent until you start it'),
    ),
    h(
      'table',
      {},
      h('tr', {}, ...['', 'letter', 'message', 'received', 'retries', 'state', 'replayed'].map((t) => h('th', {}, t))),
      ...rows,
    ),
  );
}

const currentRate = () => (document.getElementById('dl-rate') as HTMLInputElement | null)?.value ?? '5';

/** The dry run of a bulk replay, with a button that starts exactly that. */
async function previewBulk(selection: { ids?: number[]; groupId?: string }): Promise<void> {
  const perSecond = Number(currentRate());
  const request = { ...selection, perSecond };
  const answer = await api<Preview>('POST', '/api/dead-letter-replays', { ...request, dryRun: true });
  if (!answer.ok) {
    show(
      'dl-bulk-preview',
      h('p', { class: 'error', id: 'dl-bulk-error' }, `refused (${answer.status}): ${reasonOf(answer.body)}`),
    );
    return;
  }
  const p = answer.body;
  const start = h('button', { id: 'dl-bulk-start' }, `start: send ${p.willSend} at ${p.perSecond}/s`);
  start.addEventListener('click', () => void startBulk(request));
  show(
    'dl-bulk-preview',
    h(
      'div',
      { class: 'preview', 'data-will-send': p.willSend },
      h('b', {}, 'Dry run: '),
      `${p.willSend} of ${p.total} would be sent, to `,
      Object.entries(p.destinations)
        .map(([to, n]) => `${to} (${n})`)
        .join(', ') || 'nowhere',
      `, one message each, at ${p.perSecond}/s: about ${fmt.seconds(p.estimatedSeconds)}. `,
      p.skipped.length ? h('span', { class: 'warn' }, `${p.skipped.length} skipped (${p.skipped[0]!.reason}). `) : '',
      p.willSend > 0 ? start : '',
    ),
  );
}

async function startBulk(request: { ids?: number[]; groupId?: string; perSecond: number }): Promise<void> {
  const answer = await api<Run>('POST', '/api/dead-letter-replays', request);
  show('dl-bulk-preview');
  if (!answer.ok) {
    show('dl-run', h('p', { class: 'error' }, `refused (${answer.status}): ${reasonOf(answer.body)}`));
    return;
  }
  state.selected.clear();
  follow(answer.body);
}

let runTimer: number | undefined;
let following: 'running' | 'ended' = 'running';

/** Shows a run and follows it every half second until it ends. */
function follow(run: Run): void {
  state.run = run;
  following = 'running';
  renderRun();
  window.clearInterval(runTimer);
  runTimer = window.setInterval(() => void pollRun(), 500);
}

async function pollRun(): Promise<void> {
  if (!state.run) return;
  const answer = await api<Run>('GET', `/api/dead-letter-replays/${state.run.id}`);
  if (!answer.ok) return;
  state.run = answer.body;
  renderRun();
  if (answer.body.state !== 'running' && following === 'running') {
    // Ended: still followed, more slowly, for the failures of its groups that keep arriving after it.
    following = 'ended';
    window.clearInterval(runTimer);
    runTimer = window.setInterval(() => void pollRun(), 3_000);
    void refresh();
  }
}

function renderRun(): void {
  const run = state.run;
  if (!run) return;
  const done = run.sent + run.skipped + run.failed;
  const cancel = h('button', { id: 'dl-run-cancel' }, 'cancel');
  cancel.addEventListener('click', () => void cancelRun(run.id));
  const warning = run.newFailures.count
    ? h(
        'div',
        { id: 'dl-run-warning', class: 'alarm', 'data-new-failures': run.newFailures.count },
        `⚠ ${run.newFailures.count} new failure${run.newFailures.count === 1 ? '' : 's'} of this group since the run started`,
        run.newFailures.cameBack ? ` (${run.newFailures.cameBack} of them replayed by this run and failing again)` : '',
        ': the cause may not be fixed. ',
        run.state === 'running' ? 'Consider cancelling.' : '',
      )
    : h(
        'div',
        { id: 'dl-run-warning', class: 'dim', 'data-new-failures': 0 },
        'no new failure of this group since the run started',
      );
  show(
    'dl-run',
    h(
      'div',
      { class: 'run', 'data-run-id': run.id, 'data-state': run.state },
      h(
        'div',
        {},
        h('b', {}, `Bulk replay #${run.id}`),
        ` by ${run.startedBy} at ${run.perSecond}/s, `,
        run.selection.kind === 'group' ? `group ${run.selection.where}` : `${run.total} chosen letters`,
        ' · ',
        h('span', { class: 'state' }, run.state),
        run.cancelledBy ? ` by ${run.cancelledBy}` : '',
        run.stopReason ? h('span', { class: 'error' }, ` (${run.stopReason})`) : '',
        ' ',
        run.state === 'running' ? cancel : '',
      ),
      h('progress', { max: Math.max(1, run.total), value: done }),
      h(
        'div',
        { class: 'counts' },
        'sent ',
        h('b', { class: 'sent' }, run.sent),
        ' · skipped (replayed already) ',
        h('b', { class: 'skipped' }, run.skipped),
        ' · failed ',
        h('b', { class: `failed${run.failed ? ' bad' : ''}` }, run.failed),
        ' · remaining ',
        h('b', { class: 'remaining' }, run.remaining),
        ` of ${run.total}`,
      ),
      ...run.failures.slice(0, 3).map((f) => h('div', { class: 'error' }, `#${f.id}: ${f.reason}`)),
      warning,
    ),
  );
}

async function cancelRun(id: number): Promise<void> {
  const answer = await api<Run>('DELETE', `/api/dead-letter-replays/${id}`);
  if (answer.ok) {
    state.run = answer.body;
    renderRun();
  }
}

/** A body as the editor shows it: pretty JSON when it is JSON, else as it is. */
function editable(content: string): string {
  try {
    return JSON.stringify(JSON.parse(content), null, 2);
  } catch {
    return content;
  }
}

async function openLetter(id: number): Promise<void> {
  const [letter, plan] = await Promise.all([
    api<Letter>('GET', `/api/dead-letters/${id}`),
    api<Plan>('GET', `/api/dead-letters/${id}/replay-plan`),
  ]);
  if (!letter.ok) {
    show('dl-letter', h('p', { class: 'error' }, `${letter.status}: ${reasonOf(letter.body)}`));
    return;
  }
  state.letter = letter.body;
  state.original = editable(letter.body.content ?? '');
  state.checked = undefined;
  renderLetter(letter.body, plan.ok ? plan.body : { error: `${plan.status}: ${reasonOf(plan.body)}` });
}

const table = (entries: [string, string | number | null | undefined][]) =>
  h(
    'table',
    { class: 'kv' },
    ...entries
      .filter(([, v]) => v !== null && v !== undefined && v !== '')
      .map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, String(v)))),
  );

function renderPlan(plan: Plan): HTMLElement {
  const to =
    plan.kind === 'queue'
      ? `exchange ${plan.exchange}, routing key ${plan.routingKey} (the queue ${plan.routingKey})`
      : `topic ${plan.record?.topic}, key ${plan.record?.key}`;
  const headers = plan.kind === 'queue' ? plan.headers : plan.record?.headers;
  const body = plan.kind === 'queue' ? plan.body : plan.record?.value;
  return h(
    'div',
    { class: 'plan' },
    h('div', {}, 'to ', h('b', { class: 'plan-to' }, to)),
    table([
      ['messageId', plan.messageId],
      ['type', plan.type ?? undefined],
      ['correlationId', plan.correlationId ?? undefined],
      ...Object.entries(headers ?? {}).map(([k, v]): [string, string] => [k, String(v)]),
    ]),
    h('pre', { class: 'plan-body' }, body ?? ''),
    plan.changed?.length ? h('div', { class: 'changed' }, `changed: ${plan.changed.join(', ')}`) : '',
  );
}

function renderLetter(letter: Letter, plan: Plan | { error: string }): void {
  const storyLink = letter.correlationId
    ? h(
        'a',
        { class: 'story-link', 'data-story': letter.correlationId },
        `the message's story (${letter.correlationId.slice(0, 8)})`,
      )
    : h('span', { class: 'dim' }, 'no correlation id: no story');
  storyLink.addEventListener('click', () => {
    if (letter.correlationId) storyOpener(letter.correlationId);
  });
  const editor = h('textarea', { id: 'dl-edit', rows: 14, cols: 80, spellcheck: false }) as HTMLTextAreaElement;
  editor.value = state.original;
  const replayable = letter.replayedAt === null && letter.content !== null && letter.content !== undefined;
  editor.disabled = !replayable;
  const check = h('button', { id: 'dl-check' }, 'check the edit (dry run)');
  const send = h('button', { id: 'dl-send' }, 'send as stored') as HTMLButtonElement;
  const update = () => {
    const edited = editor.value !== state.original;
    showDiff(editor.value);
    send.textContent = edited ? 'send the edited message' : 'send as stored';
    // An edit may be sent once audit has checked exactly this text; the stored body as soon as its dry run is shown.
    send.disabled = !replayable || (edited && state.checked !== editor.value);
    check.hidden = !edited;
  };
  editor.addEventListener('input', () => {
    if (state.checked !== editor.value) show('dl-message');
    update();
  });
  check.addEventListener('click', () => void checkEdit(letter.id, editor.value).then(update));
  send.addEventListener('click', () => void sendLetter(letter.id, editor.value));
  const history = (letter.history ?? []).map((d) =>
    h(
      'li',
      { 'data-history': d.id },
      `#${d.id} ${fmt.time(d.receivedAt)}: ${d.retryCount} retries, ${d.reason}`,
      d.replayedAt ? ` · replayed by ${d.replayedBy} at ${fmt.time(d.replayedAt)}` : ' · waiting',
      d.cameBackAt ? h('span', { class: 'warn' }, ` · came back at ${fmt.time(d.cameBackAt)}`) : '',
    ),
  );
  show(
    'dl-letter',
    h(
      'div',
      { class: 'letter', 'data-letter': letter.id },
      h('h3', {}, `Dead letter #${letter.id}: ${letter.type ?? 'unreadable message'} ${letter.messageId}`),
      h(
        'p',
        {},
        'failed in ',
        h('b', { class: 'consumer' }, letter.consumer ?? 'an unknown consumer'),
        letter.kafka
          ? ` (group ${letter.kafka.consumerGroup} on ${letter.kafka.topic}, partition ${letter.kafka.partition}, offset ${letter.kafka.offset})`
          : ` (queue ${letter.originalQueue})`,
        ` after ${letter.retryCount} retries: `,
        h('span', { class: 'error' }, letter.reason),
        ' · ',
        storyLink,
      ),
      h(
        'div',
        { class: 'columns' },
        h(
          'div',
          {},
          h('h4', {}, 'Headers and properties'),
          table([
            ['messageId', letter.messageId],
            ['type', letter.type],
            ['correlationId', letter.correlationId],
            ['stored in', letter.queue],
            ['received', letter.receivedAt],
            ...Object.entries(letter.headers).map(([k, v]): [string, string] => [k, v]),
          ]),
          h('h4', {}, 'Retry history'),
          h(
            'p',
            { class: 'dim' },
            `${letter.retryCount} retries, first failure ${letter.firstFailedAt ?? '–'}, last ${letter.lastFailedAt ?? '–'}; each time this message was dead-lettered:`,
          ),
          h('ul', { class: 'history' }, ...history),
        ),
        h(
          'div',
          {},
          h('h4', {}, 'What a replay sends (dry run)'),
          'error' in plan ? h('p', { class: 'warn', id: 'dl-plan-refused' }, plan.error) : renderPlan(plan),
        ),
      ),
      h('h4', {}, 'Body', letter.content === null ? h('span', { class: 'dim' }, ` ${letter.contentNote ?? ''}`) : ''),
      editor,
      h('div', { id: 'dl-diff', class: 'diff' }),
      h('div', { class: 'actions' }, check, ' ', send),
      h('div', { id: 'dl-edit-plan' }),
      h('p', { id: 'dl-message' }),
    ),
  );
  update();
  byId('dead-letters-view').scrollIntoView({ block: 'nearest' });
}

function showDiff(text: string): void {
  if (text === state.original) {
    show('dl-diff', h('span', { class: 'dim' }, 'unchanged: a replay sends the stored bytes'));
    return;
  }
  const diff = lineDiff(state.original, text);
  const { removed, added } = diffStats(diff);
  show(
    'dl-diff',
    h('div', { class: 'dim' }, `the edit against the original: ${removed} line(s) removed, ${added} added`),
    h(
      'pre',
      {},
      ...diff
        .filter((d, i) => d.kind !== 'same' || diff.slice(Math.max(0, i - 2), i + 3).some((x) => x.kind !== 'same'))
        .map((d) =>
          h('div', { class: d.kind }, `${d.kind === 'added' ? '+' : d.kind === 'removed' ? '-' : ' '} ${d.text}`),
        ),
    ),
  );
}

/** The edit as an envelope, or the reason it is not one. */
function envelopeOf(text: string): { envelope: Record<string, unknown> } | { error: string } {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      return { error: 'the edited body must be a JSON object (an envelope)' };
    return { envelope: parsed as Record<string, unknown> };
  } catch (error) {
    return { error: `the edited body is not JSON: ${(error as Error).message}` };
  }
}

function message(kind: 'ok' | 'error', text: string): void {
  const el = byId('dl-message');
  el.className = kind;
  el.textContent = text;
}

/** Audit checks the edit (type, message id, the type's schema) and answers what it would send; nothing is sent. */
async function checkEdit(id: number, text: string): Promise<void> {
  const edit = envelopeOf(text);
  if ('error' in edit) return message('error', edit.error);
  const answer = await api<Plan>('POST', `/api/dead-letters/${id}/replay`, { envelope: edit.envelope, dryRun: true });
  if (!answer.ok) {
    state.checked = undefined;
    show('dl-edit-plan');
    return message('error', `refused (${answer.status}): ${reasonOf(answer.body)}`);
  }
  state.checked = text;
  show('dl-edit-plan', h('h4', {}, 'What the edited replay sends (dry run)'), renderPlan(answer.body));
  message('ok', `valid: changes ${(answer.body.changed ?? []).join(', ')}; nothing sent yet`);
}

async function sendLetter(id: number, text: string): Promise<void> {
  let body: { envelope?: Record<string, unknown> } = {};
  if (text !== state.original) {
    const edit = envelopeOf(text);
    if ('error' in edit) return message('error', edit.error);
    body = { envelope: edit.envelope };
  }
  const answer = await api<{ replayedTo: string; replayedBy: string; changed: string[] }>(
    'POST',
    `/api/dead-letters/${id}/replay`,
    body,
  );
  if (!answer.ok) return message('error', `refused (${answer.status}): ${reasonOf(answer.body)}`);
  const r = answer.body;
  await openLetter(id);
  message(
    'ok',
    `replayed to ${r.replayedTo} by ${r.replayedBy}${r.changed.length ? ` (edited: ${r.changed.join(', ')})` : ''}`,
  );
  void refresh();
}
