import type { FaultMark, Hello, Tick } from '../snapshot.js';

/** Where a fault switch went on (`on`) or off on a chart: the index of the tick, and what it was. */
export interface FaultMarkAt {
  index: number;
  on: boolean;
  label: string;
}

/** What a fault mark says: `slow-consumer on payment.process in payments by alice`. */
export const faultLabel = (service: string, f: FaultMark) =>
  `${f.kind}${f.source ? ` on ${f.source}` : f.kind === 'stop-consumers' ? ' on all its consumers' : ''} in ${service} by ${f.by}`;

/**
 * The ticks where fault switches went on and off, among those `match` selects: a fault a service reports at one tick
 * and not at the one before went on there, and the other way round. A service that did not answer at either tick is
 * not compared across them (its faults are unknown, not off).
 */
export function faultMarks(
  history: readonly Tick[],
  match: (service: string, fault: FaultMark) => boolean,
): FaultMarkAt[] {
  const marks: FaultMarkAt[] = [];
  const counts = (tick: Tick, service: string) => {
    const out = new Map<string, number>();
    for (const f of tick.services.find((x) => x.service === service)?.faults ?? []) {
      if (!match(service, f)) continue;
      const label = faultLabel(service, f);
      out.set(label, (out.get(label) ?? 0) + 1);
    }
    return out;
  };
  const up = (tick: Tick, service: string) => tick.services.find((x) => x.service === service)?.up ?? false;
  for (let i = 1; i < history.length; i++) {
    const [before, now] = [history[i - 1]!, history[i]!];
    for (const { service } of now.services) {
      if (!up(before, service) || !up(now, service)) continue;
      const [was, is] = [counts(before, service), counts(now, service)];
      for (const [label, n] of is) if (n > (was.get(label) ?? 0)) marks.push({ index: i, on: true, label });
      for (const [label, n] of was) if (n > (is.get(label) ?? 0)) marks.push({ index: i, on: false, label });
    }
  }
  return marks;
}

/**
 * The service that consumes `queue`, from the topology's edges (a dead letter queue: audit, which stores them); what a
 * `stop-consumers` fault that names no source stops.
 */
export function queueConsumer(graph: Hello['graph'] | undefined, queue: string): string | undefined {
  const edge = graph?.edges.find((e) => e.from === `queue:${queue}` && e.to.startsWith('sub:'));
  if (edge) return edge.to.slice('sub:'.length);
  return queue.endsWith('-dlq') ? 'audit' : undefined;
}

/** Whether `fault` in `service` acts on the consumer of `source` there: it names it, or stops all its consumers. */
export function faultOn(service: string, fault: FaultMark, source: string, consumer?: string): boolean {
  if (fault.source) return fault.source === source;
  return fault.kind === 'stop-consumers' && service === consumer;
}
