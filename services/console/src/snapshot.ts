/**
 * What the control room's server sends its page (server-sent events) and what the page draws: shared by both sides,
 * types only.
 */

/** Where a part of the picture comes from, and whether that source answered last time. */
export interface SourceState {
  /** `rabbitmq`, or a service's name. */
  name: string;
  ok: boolean;
  /** When it last answered (epoch ms); null if never. */
  lastOk: number | null;
  error?: string;
}

/** One queue's state at one tick: the broker's own figures (management API). Rates are messages per second. */
export interface QueuePoint {
  name: string;
  ready: number;
  unacked: number;
  consumers: number;
  publish: number;
  deliver: number;
  ack: number;
}

/** A Kafka consumer group's lag on one partition, as the consuming service reports it. */
export interface LagPoint {
  topic: string;
  group: string;
  partition: number;
  lag: number;
}

/** One service's own figures at one tick (its `/metrics`). Rates are per second. */
export interface ServicePoint {
  service: string;
  up: boolean;
  /** Messages confirmed by a broker, per destination (exchange or topic). */
  published: Record<string, number>;
  /** Messages handled, per source (queue or topic). */
  consumed: Record<string, number>;
  /** Totals since the process started, per source. */
  deadLettered: Record<string, number>;
  retried: Record<string, number>;
  duplicates: Record<string, number>;
  /** Times its Kafka consumers joined their groups (each a rebalance), per `topic/group`, since the process started. */
  groupJoins: Record<string, number>;
  outboxUnsent?: number;
  outboxOldestSeconds?: number;
  /** Dependencies whose breaker is open (consumers paused). */
  breakersOpen: string[];
  /** The operator's fault switches on in it (its `faults_active` gauge): the charts' fault annotations. */
  faults: FaultMark[];
}

/** A fault switch that is on in a service, as its `/metrics` reports it (`source` empty for `pause-relay`). */
export interface FaultMark {
  kind: string;
  source: string;
  by: string;
}

/** Everything the page needs for one second of the system. */
export interface Tick {
  at: number;
  sources: SourceState[];
  queues: QueuePoint[];
  lags: LagPoint[];
  services: ServicePoint[];
}

export type NodeKind = 'service' | 'exchange' | 'queue' | 'topic';

/** A node of the live topology; `column` places it (publishers, exchanges and topics, queues, consumers). */
export interface GraphNode {
  id: string;
  kind: NodeKind;
  label: string;
  column: number;
  /** For an exchange, its type; for a queue, its bound, if any. */
  detail?: string;
}

/** Where an edge's rate comes from at each tick. */
export type EdgeRate =
  | { kind: 'published'; service: string; destination: string }
  | { kind: 'queue-in'; queue: string }
  | { kind: 'queue-out'; queue: string }
  | { kind: 'consumed'; service: string; source: string };

export interface GraphEdge {
  from: string;
  to: string;
  /** The pattern the edge is an instance of (the "patterns" toggle labels edges with it). */
  pattern: string;
  rate: EdgeRate;
}

export interface TopologyGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** The first event of a stream: the topology and the ticks of the last minutes. */
export interface Hello {
  graph: TopologyGraph;
  history: Tick[];
  intervalMs: number;
  /** How many ticks the page keeps (the server's window). */
  historyTicks: number;
  /** Which service each Kafka consumer group belongs to. */
  groups: { topic: string; group: string; service: string }[];
}

/** The saga board, fetched with the viewer's own token. */
export interface SagaBoard {
  counts: { status: string; step: string; n: number }[];
  stuck: SagaSummary[];
  recent: SagaSummary[];
}

export interface SagaSummary {
  orderId: string;
  status: string;
  step: string;
  reason?: string;
  deadline?: string;
  completed: string[];
  updatedAt: string;
}

/** One entry of an audit trail (the audit service's `GET /audit`). */
export interface TrailEntry {
  position: number;
  source: string;
  messageId: string;
  type: string;
  version: number;
  correlationId: string;
  causationId: string | null;
  occurredAt: string;
  recordedAt: string;
  data: unknown;
  /** The services that handle it (from the topology; added by the console). */
  handledBy?: string[];
}

/** A stored dead letter (the audit service's `GET /dead-letters`), the fields the story shows. */
export interface DeadLetterEntry {
  id: number;
  queue: string;
  messageId: string;
  type: string | null;
  correlationId: string | null;
  reason: string;
  retryCount: number;
  receivedAt: string;
}

/** One message's story: every message recorded under a correlation id, and its dead letters. */
export interface Story {
  id: string;
  trail: TrailEntry[];
  deadLetters: DeadLetterEntry[];
  order?: unknown;
  errors: string[];
}

/** A fault switch that is on (a service's `GET /faults`): what was asked, by whom, since and until when. */
export interface FaultEntry {
  id: string;
  kind: string;
  source?: string;
  delayMs?: number;
  fraction?: number;
  by: string;
  since: string;
  until: string;
}

/** One service's fault switches (`GET /api/faults`); `answered` false (and `error`) when it did not answer. */
export interface ServiceFaults {
  service: string;
  answered: boolean;
  /** Whether it runs with `FAULTS_ALLOWED=1`. */
  allowed: boolean;
  /** The queues and topics it consumes: what a consumer fault may name. */
  sources: string[];
  /** Every consumer running in it (also audit's dead letter stores): what `stop-consumers` may name. */
  stoppable: string[];
  /** Where it may send a poison message (what it publishes to), and who would dead-letter it. */
  poisonDestinations: PoisonDestinationEntry[];
  faults: FaultEntry[];
  error?: string;
}

/** A destination a service publishes to, as its `GET /faults` lists it for the poison button. */
export interface PoisonDestinationEntry {
  destination: string;
  broker: string;
  messageType: string;
  reaches: string[];
  deadLetters: string[];
}

/** What a service answered to `POST /faults/poison`: the message sent, found later by its correlation id. */
export interface PoisonSentEntry {
  destination: string;
  variant: string;
  messageId: string;
  correlationId: string;
  type: string;
  by: string;
  sentAt: string;
  reaches: string[];
  deadLetters: string[];
}
