import type { GraphEdge, GraphNode, Tick, TopologyGraph } from '../snapshot.js';
import { fmt, s } from './dom.js';

const COLUMN_X = [10, 300, 660, 1020];
const NODE_W = 200;
const NODE_H = 26;
const ROW = 36;

/** The rate of an edge at one tick: a service's own counters, or the broker's figures for a queue. */
export function edgeRate(edge: GraphEdge, tick: Tick): number | undefined {
  const rate = edge.rate;
  switch (rate.kind) {
    case 'published':
      return serviceOf(tick, rate.service)?.published[rate.destination];
    case 'consumed':
      return serviceOf(tick, rate.service)?.consumed[rate.source];
    case 'queue-in':
      return tick.queues.find((q) => q.name === rate.queue)?.publish;
    case 'queue-out':
      return queueOutRate(tick, rate.queue);
  }
}

/**
 * How fast a queue is consumed: its consumer's own counter (fresh every second), else the broker's deliver rate
 * (refreshed every 5 s by the management plugin).
 */
export function queueOutRate(tick: Tick, queue: string): number | undefined {
  const consumer = tick.services.find((svc) => svc.consumed[queue] !== undefined);
  return consumer?.consumed[queue] ?? tick.queues.find((q) => q.name === queue)?.deliver;
}

const serviceOf = (tick: Tick, service: string) => tick.services.find((x) => x.service === service);

/** What a node's badge says: a queue's depth (and its retries and dead letters), a topic's lag, a service's backlog. */
function badge(node: GraphNode, tick: Tick): string {
  if (node.kind === 'queue') {
    const q = tick.queues.find((x) => x.name === node.label);
    if (!q) return '';
    const failing = tick.queues
      .filter((x) => x.name.startsWith(`${node.label}-retry-`))
      .reduce((sum, x) => sum + x.ready, 0);
    const dead = tick.queues.find((x) => x.name === `${node.label}-dlq`)?.ready ?? 0;
    return `${fmt.count(q.ready)} ready · ${fmt.count(q.unacked)} unacked${failing ? ` · ${failing} retrying` : ''}${dead ? ` · ${dead} dead` : ''}`;
  }
  if (node.kind === 'topic') {
    const lag = tick.lags.filter((l) => l.topic === node.label).reduce((sum, l) => sum + l.lag, 0);
    return lag ? `lag ${fmt.count(lag)}` : '';
  }
  if (node.kind === 'service') {
    const svc = serviceOf(tick, node.label);
    if (!svc?.up) return 'not answering';
    return svc.outboxUnsent ? `outbox ${fmt.count(svc.outboxUnsent)}` : '';
  }
  return node.detail ?? '';
}

/** Draws the topology for one tick; `patterns` labels each edge with its pattern instead of its rate. */
export function drawTopology(graph: TopologyGraph, tick: Tick | undefined, patterns: boolean): SVGElement {
  const rows = new Map<number, number>();
  const place = new Map<string, { x: number; y: number }>();
  for (const node of graph.nodes) {
    const row = rows.get(node.column) ?? 0;
    rows.set(node.column, row + 1);
    place.set(node.id, { x: COLUMN_X[node.column]!, y: 24 + row * ROW });
  }
  const height = 30 + Math.max(...rows.values()) * ROW;
  const headers = ['publishers', 'exchanges and topics', 'queues', 'consumers'].map((t, i) =>
    s('text', { x: COLUMN_X[i]!, y: 12, class: 'dim' }, t),
  );
  const edges = graph.edges.map((edge) => {
    const a = place.get(edge.from)!;
    const b = place.get(edge.to)!;
    const x1 = a.x + NODE_W;
    const y1 = a.y + NODE_H / 2;
    const x2 = b.x;
    const y2 = b.y + NODE_H / 2;
    const mid = (x1 + x2) / 2;
    const rate = tick ? edgeRate(edge, tick) : undefined;
    const active = rate !== undefined && rate > 0.05;
    // A rate is written where it moves (zero everywhere would hide the edges that carry something); the patterns
    // toggle labels every edge, next to where it arrives.
    const label = patterns ? edge.pattern : active ? fmt.rate(rate) : '';
    return s(
      'g',
      { class: `edge${active ? ' active' : ''}`, 'data-edge': `${edge.from}->${edge.to}`, 'data-rate': rate ?? 0 },
      s('path', { d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` }),
      s('text', { x: patterns ? x2 - 150 : mid - 20, y: patterns ? y2 - 3 : (y1 + y2) / 2 - 3 }, label),
    );
  });
  const nodes = graph.nodes.map((node) => {
    const { x, y } = place.get(node.id)!;
    const down = node.kind === 'service' && tick !== undefined && !serviceOf(tick, node.label)?.up;
    return s(
      'g',
      { class: `node ${node.kind}${down ? ' down' : ''}`, 'data-node': node.id },
      s('rect', { x, y, width: NODE_W, height: NODE_H, rx: 4 }),
      s('text', { x: x + 6, y: y + 11 }, node.label),
      s('text', { x: x + 6, y: y + 22, class: 'badge-text' }, tick ? badge(node, tick) : ''),
    );
  });
  return s(
    'svg',
    { width: COLUMN_X[3]! + NODE_W + 10, height, viewBox: `0 0 ${COLUMN_X[3]! + NODE_W + 10} ${height}` },
    ...headers,
    ...edges,
    ...nodes,
  );
}
