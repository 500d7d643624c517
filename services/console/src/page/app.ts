import type { LabUpdate } from '../lab-types.js';
import type { Hello, PoisonSentEntry, SagaBoard, ServiceFaults, Story, Tick } from '../snapshot.js';
import { fmt, h, show } from './dom.js';
import { labUpdate, setupLab } from './lab.js';
import { startOffsets } from './offsets.js';
import { drawTopology } from './topology.js';
import { startWorkbench } from './workbench.js';
import {
  renderAccount,
  renderFaults,
  renderOperatorActions,
  type OperatorActionEntry,
  renderKafka,
  renderOutbox,
  renderQueues,
  renderSagas,
  renderStory,
} from './views.js';

/**
 * The control room's page: signs in with an operator token (from the URL's fragment, which never reaches a server,
 * or pasted), then follows the server's stream. Every figure is drawn from the ticks the stream sends; a source that
 * stops answering turns its chip red and its parts of the page say "stale" until it answers again.
 */
let hello: Hello | undefined;
let ticks: Tick[] = [];
let stream: EventSource | undefined;
let lastTickAt = 0;
let sagaTimer: number | undefined;
let faultStates: ServiceFaults[] = [];

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

async function start(): Promise<void> {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get('token');
  if (token) {
    window.history.replaceState(null, '', location.pathname + location.search);
    await signIn(token);
  }
  byId<HTMLFormElement>('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void signIn(byId<HTMLInputElement>('token').value.trim());
  });
  byId('logout').addEventListener(
    'click',
    () => void fetch('/session', { method: 'DELETE' }).then(() => location.reload()),
  );
  byId<HTMLInputElement>('show-patterns').addEventListener('change', redrawTopology);
  byId<HTMLFormElement>('story-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void openStory(byId<HTMLInputElement>('story-id').value.trim());
  });
  byId<HTMLFormElement>('account-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void openAccount(byId<HTMLInputElement>('account-id').value.trim());
  });
  byId<HTMLFormElement>('fault-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void switchFaultOn();
  });
  byId('fault-service').addEventListener('change', faultForm);
  byId('fault-kind').addEventListener('change', faultForm);
  byId<HTMLFormElement>('poison-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void sendPoison();
  });
  const who = await fetch('/session');
  if (who.ok) live();
  else byId('login').hidden = false;
}

async function signIn(token: string): Promise<void> {
  const answer = await fetch('/session', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  if (answer.ok) {
    byId('login').hidden = true;
    live();
  } else {
    byId('login').hidden = false;
    const body = (await answer.json().catch(() => ({}))) as { reason?: string };
    byId('login-error').textContent = `refused (${answer.status}): ${body.reason ?? ''}`;
  }
}

function live(): void {
  if (stream) return;
  byId('main').hidden = false;
  byId('logout').hidden = false;
  stream = new EventSource('/api/stream');
  stream.addEventListener('hello', (event) => {
    hello = JSON.parse((event as MessageEvent<string>).data) as Hello;
    ticks = hello.history;
    render();
  });
  stream.addEventListener('tick', (event) => {
    const tick = JSON.parse((event as MessageEvent<string>).data) as Tick;
    ticks.push(tick);
    const keep = hello?.historyTicks ?? 300;
    if (ticks.length > keep) ticks.splice(0, ticks.length - keep);
    render();
  });
  stream.addEventListener('lab', (event) => labUpdate(JSON.parse((event as MessageEvent<string>).data) as LabUpdate));
  setupLab();
  // The console itself gone: everything is stale until the stream comes back (EventSource reconnects by itself).
  setInterval(() => {
    if (hello && Date.now() - lastTickAt > 3 * hello.intervalMs) renderSources();
  }, 1000);
  void refreshSagas();
  sagaTimer = window.setInterval(() => void refreshSagas(), 2000);
  void refreshFaults();
  window.setInterval(() => void refreshFaults(), 3000);
  startWorkbench(showStory);
  startOffsets();
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('story');
  if (fromHash) void openStory(fromHash);
}

function render(): void {
  if (!hello) return;
  lastTickAt = ticks.at(-1)?.at ?? 0;
  renderSources();
  redrawTopology();
  renderQueues(ticks, hello.graph);
  renderKafka(hello, ticks);
  renderOutbox(ticks);
}

function renderSources(): void {
  const tick = ticks.at(-1);
  const consoleStale = !hello || Date.now() - lastTickAt > 3 * (hello?.intervalMs ?? 1000);
  const chips = (tick?.sources ?? []).map((source) => {
    const stale = consoleStale || !source.ok;
    const since = source.lastOk ? `last answered ${fmt.time(source.lastOk)}` : 'never answered';
    return h(
      'span',
      {
        class: `chip ${stale ? 'stale' : 'up'}`,
        'data-source': source.name,
        title: stale ? `${since}${source.error ? `: ${source.error}` : ''}` : 'live',
      },
      source.name,
      stale ? ' · stale' : '',
    );
  });
  show(
    'sources',
    consoleStale ? h('span', { class: 'chip stale', 'data-source': 'console' }, 'console · stale') : '',
    ...chips,
  );
}

function redrawTopology(): void {
  if (!hello) return;
  show('topology', drawTopology(hello.graph, ticks.at(-1), byId<HTMLInputElement>('show-patterns').checked));
}

async function refreshSagas(): Promise<void> {
  if (document.hidden) return;
  const answer = await fetch('/api/sagas').catch(() => undefined);
  if (!answer) return renderSagas({ error: 'the console is not answering' }, showStory);
  if (answer.status === 401) {
    clearInterval(sagaTimer);
    return location.reload();
  }
  const body = (await answer.json().catch(() => ({}))) as SagaBoard & { reason?: string; message?: string };
  renderSagas(
    answer.ok ? body : { error: `orders answered ${answer.status}: ${body.reason ?? body.message ?? ''}` },
    showStory,
  );
}

const showStory = (id: string) => void openStory(id);

/** The page's own writes: the session cookie stands for the token only with this header (session-cookie.ts). */
const WRITE = { 'x-control-room': '1' };
const undo = (service: string, id: string) => void undoFault(service, id);

async function refreshFaults(): Promise<void> {
  if (document.hidden) return;
  const answer = await fetch('/api/faults').catch(() => undefined);
  if (!answer) return renderFaults({ error: 'the console is not answering' }, undo);
  const body = (await answer.json().catch(() => ({}))) as { services?: ServiceFaults[]; reason?: string };
  if (!answer.ok || !body.services) return renderFaults({ error: `${answer.status}: ${body.reason ?? ''}` }, undo);
  faultStates = body.services;
  renderFaults({ services: faultStates }, undo);
  faultForm();
  await refreshOperatorActions();
}

/** Audit's trail of operators' actions, read with the faults. */
async function refreshOperatorActions(): Promise<void> {
  const answer = await fetch('/api/operator-actions').catch(() => undefined);
  if (!answer) return renderOperatorActions({ error: 'the console is not answering' });
  const body = (await answer.json().catch(() => ({}))) as { actions?: OperatorActionEntry[]; reason?: string };
  if (!answer.ok || !body.actions) return renderOperatorActions({ error: `${answer.status}: ${body.reason ?? ''}` });
  renderOperatorActions({ actions: body.actions });
}

/** Fills the form's choices from what the chosen service allows and consumes, keeping what the viewer chose. */
function faultForm(): void {
  const serviceSelect = byId<HTMLSelectElement>('fault-service');
  const chosen = serviceSelect.value;
  const names = faultStates.map((s) => s.service);
  if ([...serviceSelect.options].map((o) => o.value).join() !== names.join()) {
    serviceSelect.replaceChildren(...names.map((n) => new Option(n, n)));
    serviceSelect.value = names.includes(chosen) ? chosen : (names[0] ?? '');
  }
  const state = faultStates.find((s) => s.service === serviceSelect.value);
  const kind = byId<HTMLSelectElement>('fault-kind').value;
  // `stop-consumers` may name any consumer running there (or, the empty value, all of them); the others a source.
  const sourceSelect = byId<HTMLSelectElement>('fault-source');
  const sources = kind === 'stop-consumers' ? ['', ...(state?.stoppable ?? [])] : (state?.sources ?? []);
  if ([...sourceSelect.options].map((o) => o.value).join() !== sources.join()) {
    const source = sourceSelect.value;
    sourceSelect.replaceChildren(...sources.map((n) => new Option(n || 'all its consumers', n)));
    if (sources.includes(source)) sourceSelect.value = source;
  }
  poisonForm();
  byId('fault-source-field').hidden = kind === 'pause-relay';
  byId('fault-delay-field').hidden = kind !== 'slow-consumer';
  byId('fault-fraction-field').hidden = kind !== 'fail-consumer';
  byId('fault-note').textContent = !state
    ? ''
    : !state.answered
      ? `${state.service} is not answering`
      : state.allowed
        ? ''
        : `Faults are off on ${state.service}: it runs without FAULTS_ALLOWED=1 (./stack up and ./stack demo set it; ` +
          'compose and Kubernetes do not), so it refuses every fault.';
}

async function switchFaultOn(): Promise<void> {
  const kind = byId<HTMLSelectElement>('fault-kind').value;
  const number = (id: string) => Number(byId<HTMLInputElement>(id).value);
  const request = {
    service: byId<HTMLSelectElement>('fault-service').value,
    kind,
    ...(kind === 'pause-relay' || (kind === 'stop-consumers' && !byId<HTMLSelectElement>('fault-source').value)
      ? {}
      : { source: byId<HTMLSelectElement>('fault-source').value }),
    ...(kind === 'slow-consumer' ? { delayMs: number('fault-delay') } : {}),
    ...(kind === 'fail-consumer' ? { fraction: number('fault-fraction') } : {}),
    durationS: number('fault-duration'),
  };
  const answer = await fetch('/api/faults', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...WRITE },
    body: JSON.stringify(request),
  }).catch(() => undefined);
  const body = (await answer?.json().catch(() => ({}))) as { id?: string; reason?: string; message?: unknown };
  const message = byId('fault-message');
  message.className = answer?.ok ? 'ok' : 'error';
  message.textContent = !answer
    ? 'the console is not answering'
    : answer.ok
      ? `${request.kind} switched on in ${request.service} (${body.id ?? ''})`
      : `refused (${answer.status}): ${reasonOf(body)}`;
  void refreshFaults();
}

/** The poison form's destinations: every service's (`service → destination`, with who would dead-letter it). */
function poisonForm(): void {
  const select = byId<HTMLSelectElement>('poison-destination');
  const options = faultStates.flatMap((s) =>
    s.poisonDestinations.map((d) => ({
      value: `${s.service} ${d.destination}`,
      label: `${s.service} → ${d.destination} (${d.reaches.join(', ')})`,
    })),
  );
  if ([...select.options].map((o) => o.value).join() === options.map((o) => o.value).join()) return;
  const chosen = select.value;
  select.replaceChildren(...options.map((o) => new Option(o.label, o.value)));
  if (options.some((o) => o.value === chosen)) select.value = chosen;
}

async function sendPoison(): Promise<void> {
  const [service, destination] = byId<HTMLSelectElement>('poison-destination').value.split(' ');
  const variant = byId<HTMLSelectElement>('poison-variant').value;
  const answer = await fetch('/api/faults/poison', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...WRITE },
    body: JSON.stringify({ service, destination, variant }),
  }).catch(() => undefined);
  const body = (await answer?.json().catch(() => ({}))) as Partial<PoisonSentEntry> & {
    reason?: string;
    message?: unknown;
  };
  const message = byId('fault-message');
  message.className = answer?.ok ? 'ok' : 'error';
  if (!answer) return void (message.textContent = 'the console is not answering');
  if (!answer.ok) return void (message.textContent = `refused (${answer.status}): ${reasonOf(body)}`);
  const story = h('a', { href: '#story-view', 'data-poison': body.correlationId ?? '' }, 'its story');
  story.addEventListener('click', (event) => {
    event.preventDefault();
    void openStory(body.correlationId ?? '');
  });
  message.replaceChildren(
    `${variant} poison message sent to ${destination} by ${service} (correlation id ${body.correlationId}); ` +
      `expect it in ${(body.deadLetters ?? []).join(', ')}: `,
    story,
  );
}

async function undoFault(service: string, id: string): Promise<void> {
  const answer = await fetch(`/api/faults/${encodeURIComponent(service)}/${encodeURIComponent(id)}`, {
    method: 'DELETE',
    headers: WRITE,
  }).catch(() => undefined);
  const message = byId('fault-message');
  message.className = answer?.ok || answer?.status === 404 ? 'ok' : 'error';
  message.textContent = !answer
    ? 'the console is not answering'
    : answer.ok
      ? `fault ${id.slice(0, 8)} switched off in ${service}`
      : answer.status === 404
        ? `fault ${id.slice(0, 8)} had ended already`
        : `refused (${answer.status}): ${reasonOf((await answer.json().catch(() => ({}))) as { reason?: string; message?: unknown })}`;
  void refreshFaults();
}

/** The reason in an error body: the services say `reason` or `message` (a string, or a list of problems). */
function reasonOf(body: { reason?: string; message?: unknown } | undefined): string {
  if (typeof body?.reason === 'string') return body.reason;
  if (Array.isArray(body?.message)) return body.message.join('; ');
  return typeof body?.message === 'string' ? body.message : '';
}

async function openStory(id: string): Promise<void> {
  if (!id) return;
  byId<HTMLInputElement>('story-id').value = id;
  const answer = await fetch(`/api/story?id=${encodeURIComponent(id)}`);
  const body = (await answer.json().catch(() => ({}))) as Story & { reason?: string; message?: string };
  if (!answer.ok)
    return show('story', h('p', { class: 'error' }, `${answer.status}: ${body.reason ?? body.message ?? ''}`));
  renderStory(body);
  byId('story-view').scrollIntoView({ block: 'nearest' });
}

async function openAccount(userId: string): Promise<void> {
  if (!userId) return;
  const answer = await fetch(`/api/accounts/${encodeURIComponent(userId)}`);
  const body = (await answer.json().catch(() => ({}))) as unknown;
  if (!answer.ok) return renderAccount({ error: `${answer.status}: ${(body as { message?: string }).message ?? ''}` });
  renderAccount(body as Parameters<typeof renderAccount>[0] & unknown[]);
}

void start();
