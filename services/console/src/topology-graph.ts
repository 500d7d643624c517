import {
  Exchanges,
  Queues,
  SAGA_COMMAND_QUEUES,
  bindingLabel,
  exchanges,
  queryExchanges,
  queryQueues,
  queues,
  requesters,
  topics,
  type QueueSpec,
} from '@am/messaging';
import type { GraphEdge, GraphNode, TopologyGraph } from './snapshot.js';

/** What each exchange's edges are an instance of: publishing to it, its bindings, consuming its queues. */
const EXCHANGE_PATTERNS: Record<string, { publish: string; bind: string; consume: string }> = {
  [Exchanges.orderTasks]: {
    publish: 'task, confirmed publish at intake',
    bind: 'load-leveling queue (bounded)',
    consume: 'competing consumers, batches',
  },
  [Exchanges.sagaCommands]: {
    publish: 'saga command (outbox relay)',
    bind: 'routed by queue name',
    consume: 'task queue (inbox, retries)',
  },
  [Exchanges.sagaReplies]: {
    publish: 'saga reply (outbox relay)',
    bind: 'reply route',
    consume: 'orchestrator (inbox)',
  },
  [Exchanges.orderFlow]: {
    publish: 'order flow event (outbox relay)',
    bind: 'the event types the service reacts to',
    consume: 'reacting service (inbox, retries)',
  },
  [Exchanges.userEvents]: {
    publish: 'event (outbox relay)',
    bind: 'fanout: a copy per queue',
    consume: 'subscriber (inbox)',
  },
  [Exchanges.mail]: {
    publish: 'mail job with kind and priority headers (outbox relay)',
    bind: 'headers',
    consume: 'SMTP sender lane (its own prefetch)',
  },
  [Exchanges.queries]: {
    publish: 'request with reply-to and a TTL equal to the timeout',
    bind: 'routed by queue name',
    consume: 'responder (answers at once, or drops a request nobody waits for)',
  },
  [Exchanges.replies]: {
    publish: 'reply, routed by the reply-to of its request',
    bind: "the asking process's own queue",
    consume: 'requester (matches the correlation id, drops a late reply)',
  },
  [Exchanges.mailUnrouted]: {
    publish: 'publish',
    bind: 'alternate exchange: jobs no binding of mail matched',
    consume: 'SMTP sender lane (its own prefetch)',
  },
};
/** Queues that copy what flows to others, for a service that only records it. */
const WIRE_TAPS = new Map<string, string>([
  [Queues.auditSaga, 'wire-tap: a copy of every command and reply'],
  [Queues.auditOrderFlow, 'wire-tap: a copy of every event of the order flow'],
]);
const FALLBACK = { publish: 'publish', bind: 'binding', consume: 'consumer' };

/** Columns, left to right: who publishes, where to (exchanges and topics), the queues, who consumes. */
export const COLUMNS = ['publishers', 'exchanges and topics', 'queues', 'consumers'] as const;

/**
 * The live topology of the control room, read from `topology.ts` (so it cannot drift from what the provisioner
 * makes): each service appears as a publisher on the left and a consumer on the right, exchanges and topics in the
 * middle, queues between exchanges and their consumers. Each edge says which figure gives its rate.
 */
export function topologyGraph(): TopologyGraph {
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const add = (node: GraphNode) => nodes.set(node.id, node);
  const publisher = (service: string) => {
    add({ id: `pub:${service}`, kind: 'service', label: service, column: 0 });
    return `pub:${service}`;
  };
  const consumer = (service: string) => {
    add({ id: `sub:${service}`, kind: 'service', label: service, column: 3 });
    return `sub:${service}`;
  };

  for (const exchange of [...exchanges, ...queryExchanges]) {
    const id = `exchange:${exchange.name}`;
    // An alternate exchange has no publisher: say whose unroutable messages reach it.
    const alternateOf = exchanges.filter((e) => e.alternateExchange === exchange.name).map((e) => e.name);
    const detail = alternateOf.length > 0 ? `${exchange.type}, alternate of ${alternateOf.join(', ')}` : exchange.type;
    add({ id, kind: 'exchange', label: exchange.name, column: 1, detail });
    const patterns = EXCHANGE_PATTERNS[exchange.name] ?? FALLBACK;
    for (const service of exchange.publishers) {
      edges.push({
        from: publisher(service),
        to: id,
        pattern: patterns.publish,
        rate: { kind: 'published', service, destination: exchange.name },
      });
    }
  }
  // A requester's reply queues: one per process, exclusive and named by an instance id; drawn as one node.
  const replyQueues: QueueSpec[] = requesters().map((service) => ({
    name: `${service}.replies.*`,
    consumer: service,
    bindings: [{ exchange: Exchanges.replies, routingKey: 'its own name' }],
  }));
  for (const queue of [...queues, ...queryQueues, ...replyQueues]) {
    const id = `queue:${queue.name}`;
    add({
      id,
      kind: 'queue',
      label: queue.name,
      column: 2,
      ...(queue.maxLength ? { detail: `max ${queue.maxLength.toLocaleString('en')}` } : {}),
    });
    // One edge per exchange, however many routing keys bind the queue to it (the wire-tap has four on one).
    for (const exchange of new Set(queue.bindings.map((b) => b.exchange))) {
      const bindings = queue.bindings.filter((b) => b.exchange === exchange);
      const patterns = EXCHANGE_PATTERNS[exchange] ?? FALLBACK;
      // A headers binding says what it matches: the routing key means nothing to a headers exchange.
      const headers = bindings.filter((b) => b.headers).map(bindingLabel);
      edges.push({
        from: `exchange:${exchange}`,
        to: id,
        pattern:
          headers.length > 0
            ? `${patterns.bind} ${headers.join('; ')}`
            : bindings.length > 1
              ? `${patterns.bind} (${bindings.length} keys)`
              : patterns.bind,
        rate: { kind: 'queue-in', queue: queue.name },
      });
    }
    const patterns = EXCHANGE_PATTERNS[queue.bindings[0]?.exchange ?? ''] ?? FALLBACK;
    edges.push({
      from: id,
      to: consumer(queue.consumer),
      pattern: WIRE_TAPS.get(queue.name) ?? patterns.consume,
      rate: { kind: 'queue-out', queue: queue.name },
    });
  }
  for (const topic of topics) {
    const id = `topic:${topic.name}`;
    add({ id, kind: 'topic', label: topic.name, column: 1, detail: `${topic.partitions} partitions` });
    for (const service of topic.producers) {
      edges.push({
        from: publisher(service),
        to: id,
        pattern: topic.name.endsWith('.dlt') ? 'dead letter topic' : 'event stream (outbox relay)',
        rate: { kind: 'published', service, destination: topic.name },
      });
    }
    for (const group of topic.groups) {
      edges.push({
        from: id,
        to: consumer(group.consumer),
        pattern: `consumer group ${group.groupId}`,
        rate: { kind: 'consumed', service: group.consumer, source: topic.name },
      });
    }
  }
  return { nodes: [...nodes.values()], edges };
}

/**
 * Which services handle a message the audit service recorded from `source` (a queue, or `topic/group`): the hop's
 * handlers in one message's story. A saga command goes to the queue of its name; what else comes through the saga
 * wire-tap is a reply, for the orchestrator; an event of the choreographed order flow goes to every service bound to
 * its type; an event read from a topic goes to every group of the topic; a user event from the fanout to every
 * service with a queue on it.
 */
export function handledBy(source: string, type: string): string[] {
  const consumerOf = (queue: string) => queues.filter((q) => q.name === queue).map((q) => q.consumer);
  if (source === Queues.auditSaga)
    return SAGA_COMMAND_QUEUES.includes(type) ? consumerOf(type) : consumerOf(Queues.sagaReplies);
  // Choreography: an event of the order flow goes to every service bound to its type, audit's `#` aside.
  if (source === Queues.auditOrderFlow)
    return queues
      .filter((q) => q.bindings.some((b) => b.exchange === Exchanges.orderFlow && b.routingKey === type))
      .map((q) => q.consumer);
  const topic = topics.find((t) => source === t.name || source.startsWith(`${t.name}/`));
  if (topic) return [...new Set(topic.groups.map((g) => g.consumer))];
  const fanout = queues.find((q) => q.name === source)?.bindings[0]?.exchange;
  if (fanout === Exchanges.userEvents)
    return queues.filter((q) => q.bindings.some((b) => b.exchange === fanout)).map((q) => q.consumer);
  return consumerOf(source);
}
