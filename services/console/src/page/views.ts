import type {
  DeadLetterEntry,
  FaultEntry,
  Hello,
  SagaBoard,
  SagaSummary,
  ServiceFaults,
  Story,
  Tick,
  TrailEntry,
} from '../snapshot.js';
import { fmt, h, lineChart, show, sparkline } from './dom.js';
import { faultMarks, faultOn, queueConsumer } from './fault-marks.js';
import { queueOutRate } from './topology.js';

/** How long a queue takes to empty at the current rates: ready / (out - in); none when it does not shrink. */
export function drainSeconds(ready: number, inRate: number, outRate: number): number | undefined {
  if (ready === 0) return 0;
  const net = outRate - inRate;
  return net > 0 ? ready / net : undefined;
}

const isFailureQueue = (name: string) => /-(retry-\d+|dlq)$/.test(name);

/** Queues: the business queues first, then their retry and dead letter queues (dimmed while empty). */
export function renderQueues(history: readonly Tick[], graph?: Hello['graph']): void {
  const tick = history.at(-1);
  if (!tick) return;
  const series = (name: string, pick: (q: Tick['queues'][number]) => number) =>
    history.map((t) => {
      const q = t.queues.find((x) => x.name === name);
      return q ? pick(q) : 0;
    });
  const outRate = (name: string) => queueOutRate(tick, name) ?? 0;
  const queues = [...tick.queues].sort(
    (a, b) => Number(isFailureQueue(a.name)) - Number(isFailureQueue(b.name)) || a.name.localeCompare(b.name),
  );
  const rows = queues
    .filter((q) => !isFailureQueue(q.name) || q.ready + q.unacked > 0 || queues.length < 30)
    .map((q) => {
      const out = outRate(q.name);
      const drain = drainSeconds(q.ready, q.publish, out);
      // Faults on this queue's consumer (also one that stops all of its service's consumers): marked where they went
      // on and off.
      const consumer = queueConsumer(graph, q.name);
      const marks = faultMarks(history, (service, f) => faultOn(service, f, q.name, consumer));
      return h(
        'tr',
        { 'data-queue': q.name, class: isFailureQueue(q.name) && q.ready === 0 ? 'minor' : undefined },
        h('td', {}, q.name),
        h('td', { class: 'num ready' }, fmt.count(q.ready)),
        h(
          'td',
          {},
          sparkline(
            series(q.name, (x) => x.ready),
            'spark',
            marks,
          ),
        ),
        h('td', { class: 'num' }, fmt.count(q.unacked)),
        h('td', { class: 'num' }, q.consumers),
        h('td', { class: 'num' }, fmt.rate(q.publish)),
        h('td', { class: 'num' }, fmt.rate(out)),
        h(
          'td',
          {},
          sparkline(
            series(q.name, (x) => x.deliver),
            'spark second',
            marks,
          ),
        ),
        h('td', { class: 'num' }, fmt.rate(q.ack)),
        h(
          'td',
          { class: `num drain${drain === undefined && q.ready > 0 ? ' warn' : ''}` },
          drain === undefined
            ? q.ready > 0
              ? q.consumers === 0
                ? 'no consumer'
                : 'growing'
              : '–'
            : drain === 0
              ? 'empty'
              : fmt.seconds(drain),
        ),
      );
    });
  show(
    'queues',
    h(
      'table',
      {},
      h(
        'tr',
        {},
        ...['queue', 'ready', '', 'unacked', 'consumers', 'in', 'out', '', 'ack', 'drains in'].map((t) =>
          h('th', {}, t),
        ),
      ),
      ...rows,
    ),
  );
}

/** Groups read by a loop of their own, not by the service's consumers: a `stop-consumers` fault does not stop them. */
const LOOPS = new Set(['order-metrics']);

/**
 * Kafka: each group's lag per partition over time (rebalances marked, and the faults on the group's consumer), and in
 * seconds at its rate.
 */
export function renderKafka(hello: Hello, history: readonly Tick[]): void {
  const tick = history.at(-1);
  if (!tick) return;
  const blocks = hello.groups.map(({ topic, group, service }) => {
    const partitions = [
      ...new Set(tick.lags.filter((l) => l.topic === topic && l.group === group).map((l) => l.partition)),
    ].sort();
    const series = partitions.map((p) => ({
      name: `p${p}`,
      values: history.map(
        (t) => t.lags.find((l) => l.topic === topic && l.group === group && l.partition === p)?.lag ?? 0,
      ),
    }));
    // A rebalance: the group's member in this service joined the group again (its join counter went up), or the
    // service stopped answering (a restart, whose join follows).
    const joins = (t: Tick) => t.services.find((x) => x.service === service)?.groupJoins[`${topic}/${group}`];
    const up = (t: Tick) => t.services.find((x) => x.service === service)?.up ?? false;
    const markers = history.flatMap((t, i) => {
      const before = history[i - 1];
      if (!before) return [];
      const joined = (joins(t) ?? 0) > (joins(before) ?? 0);
      return joined || (up(before) && !up(t)) ? [i] : [];
    });
    const lag = series.reduce((sum, x) => sum + (x.values.at(-1) ?? 0), 0);
    const rate = tick.services.find((x) => x.service === service)?.consumed[topic] ?? 0;
    return h(
      'div',
      { 'data-group': `${topic}/${group}` },
      h(
        'div',
        {},
        h('b', {}, group),
        ` on ${topic} (${service}): lag `,
        h('span', { class: 'lag' }, fmt.count(lag)),
        ` · ${fmt.rate(rate)} · `,
        lag === 0 ? 'caught up' : rate > 0 ? `about ${fmt.seconds(lag / rate)} behind` : 'not moving',
      ),
      series.length
        ? lineChart(
            series,
            markers,
            faultMarks(
              history,
              (s, f) => s === service && faultOn(s, f, topic, LOOPS.has(group) ? undefined : service),
            ),
          )
        : h('span', { class: 'dim' }, 'no lag reported yet'),
    );
  });
  show('kafka', ...blocks);
}

/**
 * Outbox and inbox per service (with the fault switches on in it): backlog (and its last minutes, with the service's
 * faults marked), oldest row, relay rate, duplicates suppressed, retries, dead letters, breakers.
 */
export function renderOutbox(history: readonly Tick[]): void {
  const tick = history.at(-1);
  if (!tick) return;
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  const backlog = (service: string) =>
    history.map((t) => t.services.find((x) => x.service === service)?.outboxUnsent ?? 0);
  show(
    'outbox',
    h(
      'table',
      {},
      h(
        'tr',
        {},
        ...[
          'service',
          'unsent',
          '',
          'oldest',
          'relay',
          'consumed',
          'duplicates',
          'retried',
          'dead-lettered',
          'breakers',
        ].map((t) => h('th', {}, t)),
      ),
      ...tick.services.map((svc) =>
        h(
          'tr',
          { 'data-service': svc.service },
          h(
            'td',
            {},
            svc.service,
            svc.up ? '' : h('span', { class: 'stale-marker' }, ' stale'),
            svc.faults.length
              ? h(
                  'span',
                  { class: 'faults-on bad', title: 'fault switches on' },
                  ` ${svc.faults.map((f) => `${f.kind}${f.source ? ` (${f.source})` : ''}`).join(', ')}`,
                )
              : '',
          ),
          h('td', { class: 'num unsent' }, fmt.count(svc.outboxUnsent)),
          h(
            'td',
            {},
            sparkline(
              backlog(svc.service),
              'spark',
              faultMarks(history, (s) => s === svc.service),
              70,
            ),
          ),
          h(
            'td',
            { class: `num${(svc.outboxOldestSeconds ?? 0) > 5 ? ' warn' : ''}` },
            fmt.seconds(svc.outboxOldestSeconds),
          ),
          h('td', { class: 'num' }, fmt.rate(sum(svc.published))),
          h('td', { class: 'num' }, fmt.rate(sum(svc.consumed))),
          h('td', { class: 'num' }, fmt.count(sum(svc.duplicates))),
          h('td', { class: 'num' }, fmt.count(sum(svc.retried))),
          h('td', { class: `num${sum(svc.deadLettered) ? ' bad' : ''}` }, fmt.count(sum(svc.deadLettered))),
          h('td', { class: svc.breakersOpen.length ? 'bad' : '' }, svc.breakersOpen.join(', ') || '–'),
        ),
      ),
    ),
  );
}

/** What a fault does, in a few words: `slow-consumer on payment.process, 500 ms`. */
export function describeFault(f: FaultEntry): string {
  const detail =
    f.delayMs !== undefined ? `, ${f.delayMs} ms` : f.fraction !== undefined ? `, ${f.fraction * 100} %` : '';
  const on = f.source ? ` on ${f.source}` : f.kind === 'stop-consumers' ? ' on all its consumers' : '';
  return `${f.kind}${on}${detail}`;
}

/**
 * The fault switches of each service: whether faults are allowed there (a process started without `FAULTS_ALLOWED=1`
 * refuses them), and the faults on, with who switched each on, since and until when, and a button that switches it off.
 */
export function renderFaults(
  state: { services: ServiceFaults[] } | { error: string },
  undo: (service: string, id: string) => void,
): void {
  if ('error' in state) {
    show('faults', h('p', { class: 'stale-marker' }, `stale: ${state.error}`));
    return;
  }
  const rows = state.services.flatMap((svc) => {
    const status = !svc.answered
      ? h('span', { class: 'stale-marker' }, `did not answer${svc.error ? `: ${svc.error}` : ''}`)
      : svc.allowed
        ? h('span', { class: 'ok' }, 'allowed')
        : h('span', { class: 'warn' }, 'not allowed: the process runs without FAULTS_ALLOWED=1');
    const head = h(
      'tr',
      { 'data-service-faults': svc.service, 'data-allowed': svc.answered ? String(svc.allowed) : 'unknown' },
      h('td', {}, h('b', {}, svc.service)),
      h('td', { colspan: 5 }, status, svc.faults.length ? '' : h('span', { class: 'dim' }, ' · none on')),
    );
    const faults = svc.faults.map((f) => {
      const button = h('button', { class: 'undo', 'data-undo': f.id }, 'undo');
      button.addEventListener('click', () => undo(svc.service, f.id));
      return h(
        'tr',
        { 'data-fault': f.id, 'data-kind': f.kind, class: 'fault-on' },
        h('td', {}, ''),
        h('td', { class: 'what' }, describeFault(f)),
        h('td', {}, `by ${f.by}`),
        h('td', {}, `since ${fmt.time(f.since)}`),
        h('td', {}, `until ${fmt.time(f.until)}`),
        h('td', {}, button),
      );
    });
    return [head, ...faults];
  });
  show('faults', h('table', {}, ...rows));
}

/** One action of audit's trail of operators' actions, as `GET /operator-actions` answers it. */
export interface OperatorActionEntry {
  id: string;
  action: string;
  operator: string;
  service: string;
  target: string | null;
  details: Record<string, unknown>;
  occurredAt: string;
}

/** The newest operators' actions (faults, poison messages, replays), newest first. */
export function renderOperatorActions(state: { actions: OperatorActionEntry[] } | { error: string }): void {
  if ('error' in state) {
    show('operator-actions', h('p', { class: 'stale-marker' }, `stale: ${state.error}`));
    return;
  }
  if (state.actions.length === 0) {
    show('operator-actions', h('p', { class: 'dim' }, 'none yet'));
    return;
  }
  const rows = state.actions.map((a) =>
    h(
      'tr',
      { 'data-operator-action': a.id, 'data-action': a.action },
      h('td', {}, fmt.time(a.occurredAt)),
      h('td', {}, h('b', {}, a.action)),
      h('td', {}, `by ${a.operator}`),
      h('td', {}, `on ${a.service}`),
      h('td', { class: 'what' }, a.target ?? ''),
      h('td', { class: 'dim' }, JSON.stringify(a.details).slice(0, 160)),
    ),
  );
  show('operator-actions', h('table', {}, ...rows));
}

/** The saga board: counts by status and step, the stuck ones, the latest ones (each links to its story). */
export function renderSagas(board: SagaBoard | { error: string }, open: (orderId: string) => void): void {
  if ('error' in board) {
    show('sagas', h('p', { class: 'stale-marker' }, `stale: ${board.error}`));
    return;
  }
  const steps = [...new Set(board.counts.map((c) => c.step))];
  const statuses = [...new Set(board.counts.map((c) => c.status))];
  const count = (status: string, step: string) =>
    board.counts.find((c) => c.status === status && c.step === step)?.n ?? 0;
  const list = (sagas: SagaSummary[], stuck: boolean) =>
    h(
      'table',
      {},
      h(
        'tr',
        {},
        ...['order', 'status', 'step', 'done', stuck ? 'deadline' : 'updated', 'reason'].map((t) => h('th', {}, t)),
      ),
      ...sagas.map((saga) => {
        const link = h('a', { 'data-order': saga.orderId }, saga.orderId.slice(0, 8));
        link.addEventListener('click', () => open(saga.orderId));
        return h(
          'tr',
          { class: stuck ? 'stuck' : undefined },
          h('td', {}, link),
          h('td', {}, saga.status),
          h('td', {}, saga.step),
          h('td', {}, saga.completed.join(', ')),
          h('td', {}, fmt.time(stuck && saga.deadline ? saga.deadline : saga.updatedAt)),
          h('td', {}, saga.reason ?? ''),
        );
      }),
    );
  show(
    'sagas',
    h(
      'table',
      { class: 'saga-counts' },
      h('tr', {}, h('th', {}, 'status \\ step'), ...steps.map((step) => h('th', {}, step))),
      ...statuses.map((status) =>
        h(
          'tr',
          { 'data-status': status },
          h('td', {}, status),
          ...steps.map((step) => h('td', { class: 'num' }, count(status, step))),
        ),
      ),
    ),
    h('h3', {}, `Stuck (${board.stuck.length})`),
    board.stuck.length
      ? list(board.stuck, true)
      : h('p', { class: 'dim' }, 'none: every running saga is within its deadline'),
    h('h3', {}, 'Latest'),
    list(board.recent, false),
  );
}

/**
 * One message's story: the messages recorded under one correlation id drawn as their causation tree (each message
 * under the one that caused it), with where it travelled (queue or topic), when, the time since its cause, and the
 * dead letters among them with their reasons.
 */
export function renderStory(story: Story): void {
  const byId = new Map(story.trail.map((e) => [e.messageId, e]));
  const children = new Map<string, TrailEntry[]>();
  const roots: TrailEntry[] = [];
  for (const entry of story.trail) {
    if (entry.causationId && byId.has(entry.causationId) && entry.causationId !== entry.messageId) {
      children.set(entry.causationId, [...(children.get(entry.causationId) ?? []), entry]);
    } else roots.push(entry);
  }
  const dead = new Map<string, DeadLetterEntry>(story.deadLetters.map((d) => [d.messageId, d]));
  const item = (entry: TrailEntry, parent?: TrailEntry): HTMLElement => {
    const letter = dead.get(entry.messageId);
    const hop = parent ? `+${Date.parse(entry.occurredAt) - Date.parse(parent.occurredAt)} ms` : '';
    const details = h('pre', { hidden: true }, JSON.stringify(entry.data, null, 1));
    const line = h(
      'li',
      { 'data-type': entry.type },
      h('a', {}, h('span', { class: 'type' }, entry.type)),
      ` v${entry.version} via ${entry.source}${entry.handledBy?.length ? ` to ${entry.handledBy.join(', ')}` : ''} at ${fmt.time(entry.occurredAt)} `,
      h('span', { class: 'hop' }, hop),
      letter ? h('span', { class: 'dead' }, ` dead-lettered from ${letter.queue}: ${letter.reason}`) : '',
      details,
      ...(children.get(entry.messageId) ?? []).map((child) => h('ul', {}, item(child, entry))),
    );
    line.firstElementChild?.addEventListener('click', () => (details.hidden = !details.hidden));
    return line;
  };
  const orphans = story.deadLetters.filter((d) => !byId.has(d.messageId));
  show(
    'story',
    h(
      'p',
      {},
      `${story.trail.length} messages under `,
      h('code', {}, story.id),
      story.order ? ` · order ${(story.order as { status?: string }).status ?? ''}` : '',
    ),
    ...story.errors.map((e) => h('p', { class: 'error' }, e)),
    h('div', { class: 'story' }, h('ul', {}, ...roots.map((r) => item(r)))),
    orphans.length
      ? h(
          'div',
          { class: 'story' },
          h('h3', {}, 'Dead letters'),
          h(
            'ul',
            {},
            ...orphans.map((d) =>
              h(
                'li',
                { class: 'dead', 'data-dead-letter': d.id },
                `${d.type ?? 'unreadable message'} ${d.messageId} dead-lettered from ${d.queue} after ${d.retryCount} retries: ${d.reason}`,
              ),
            ),
          ),
        )
      : '',
  );
}

interface AccountEntry {
  version: number;
  type: string;
  data: { amount?: number; orderId?: string };
  occurredAt: string;
  balanceAfter: number;
}

/** The event-sourced account: its events in order, each with the balance as of that version. */
export function renderAccount(entries: AccountEntry[] | { error: string }): void {
  if ('error' in entries) {
    show('account', h('p', { class: 'error' }, entries.error));
    return;
  }
  show(
    'account',
    h(
      'table',
      {},
      h(
        'tr',
        {},
        ...['version', 'event', 'amount', 'order', 'at', 'balance as of this version'].map((t) => h('th', {}, t)),
      ),
      ...entries.map((e) =>
        h(
          'tr',
          { 'data-version': e.version },
          h('td', { class: 'num' }, e.version),
          h('td', {}, e.type),
          h('td', { class: 'num' }, e.data.amount ?? ''),
          h('td', {}, e.data.orderId?.slice(0, 8) ?? ''),
          h('td', {}, fmt.time(e.occurredAt)),
          h('td', { class: 'num balance' }, e.balanceAfter),
        ),
      ),
    ),
  );
}
