/**
 * The messaging topology of DESIGN.md as data: one place that names every exchange, queue, binding and topic,
 * which service consumes what and which service may publish where. The provisioner turns it into broker
 * objects, policies and least-privilege permissions; services only use it (they declare nothing themselves).
 */

export const SERVICES = ['orders', 'inventory', 'payments', 'email', 'analytics', 'audit'] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * The default exchange routes by queue name. No service may publish to it: write permission on it would be write
 * permission on every queue of the vhost. Only the broker uses it, to move expired retries back to their queue and
 * rejected messages to their dead letter queue (policies), and tests and the admin use it to plant messages.
 */
export const DEFAULT_EXCHANGE = '';

export const Exchanges = {
  userEvents: 'user-events',
  sagaCommands: 'saga-commands',
  sagaReplies: 'saga-replies',
  /** Tasks for the orders workers (the load-leveling queue `order-processing`). */
  orderTasks: 'order-tasks',
  /**
   * Where a consumer sends a failed message for a delayed retry, and where it sends a message that failed for good.
   * Topic exchanges, so that topic permissions can hold each service to the retry and dead letter queues of its own
   * queues (a routing key is the destination queue's name).
   */
  retries: 'retries',
  deadLetters: 'dead-letters',
  /** Where audit sends a dead letter back to the queue it came from (operator replay). */
  replays: 'replays',
  /** Pattern: request/reply. Requests that wait for an answer (docs/request-reply.md). */
  queries: 'queries',
  /**
   * Where a responder sends its answer, the routing key being the requester's reply queue (the request's
   * `reply-to`). A topic exchange, so that topic permissions hold each requester to binding its own reply queues.
   */
  replies: 'replies',
  /**
   * Pattern: routing by message headers. The email service's own `mail.send` jobs, routed to a sending lane by
   * their `priority` header (a headers exchange: the routing key is ignored).
   */
  mail: 'mail',
  /** The alternate exchange of `mail`: a job whose headers match no binding goes to the bulk lane, not nowhere. */
  mailUnrouted: 'mail-unrouted',
  /**
   * The audit trail of operators' actions: each service says here what an operator did to it (`operator.action`,
   * the routing key being the action), before it does it.
   */
  operatorActions: 'operator-actions',
  /**
   * Pattern: choreography. The events of the choreographed order flow (docs/choreography.md), routing key the
   * event's type: each service binds its queue to the types it reacts to, and nobody sends anybody a command.
   */
  orderFlow: 'order-flow',
} as const;

/** Routing key of every saga reply on the `saga-replies` exchange: the orchestrator's queue is bound with it. */
export const SAGA_REPLY_KEY = 'order-saga';

export const Queues = {
  orderProcessing: 'order-processing',
  inventoryReserve: 'inventory.reserve',
  inventoryRelease: 'inventory.release',
  paymentProcess: 'payment.process',
  paymentRefund: 'payment.refund',
  sagaReplies: 'order-saga-replies',
  emailNotifications: 'email-notifications',
  analyticsTracking: 'analytics-tracking',
  auditLog: 'audit-log',
  auditSaga: 'audit-saga',
  paymentsAccounts: 'payments-accounts',
  inventoryQueries: 'inventory-queries',
  mailPriority: 'mail-priority',
  mailBulk: 'mail-bulk',
  auditOperatorActions: 'audit-operator-actions',
  inventoryOrderFlow: 'inventory-order-flow',
  paymentsOrderFlow: 'payments-order-flow',
  ordersOrderFlow: 'orders-order-flow',
  auditOrderFlow: 'audit-order-flow',
} as const;

/**
 * Who reacts to what in the choreographed order flow: the event types each service's queue on `order-flow` is
 * bound to. With the reactions in each service (`order-flow.reactions.ts`), this is where the flow is defined;
 * there is no other place that knows the whole of it.
 */
export const ORDER_FLOW_REACTIONS = {
  [Queues.inventoryOrderFlow]: ['order.placed', 'payment.failed', 'order.timed-out'],
  [Queues.paymentsOrderFlow]: ['inventory.reserved', 'order.timed-out'],
  [Queues.ordersOrderFlow]: ['inventory.reservation-failed', 'payment.completed', 'payment.failed'],
} as const satisfies Record<string, readonly string[]>;

/**
 * The handler prefix of the flow's queues (`handlerPrefix` of their subscriptions): a service may get the same type
 * as a saga reply and as a flow event, and handles each in its own way.
 */
export const ORDER_FLOW_HANDLERS = 'order-flow:';

/** The pattern of a service's reaction to the flow event `type` (`@EventPattern(onOrderFlow('order.placed'))`). */
export const onOrderFlow = (type: string): string => `${ORDER_FLOW_HANDLERS}${type}`;

/** The command queues of the order saga: a command's routing key on `saga-commands` is its queue's name. */
export const SAGA_COMMAND_QUEUES: readonly string[] = [
  Queues.inventoryReserve,
  Queues.inventoryRelease,
  Queues.paymentProcess,
  Queues.paymentRefund,
];

export const Topics = {
  orderEvents: 'order-events',
  orderEventsDeadLetters: 'order-events.dlt',
  accountEvents: 'account-events',
  orderMetrics: 'order-metrics',
} as const;

/**
 * Where the audit service replays a dead letter of consumer group `group` (read from `originalTopic`): a topic that
 * group alone reads, beside its original topic. Sending the record back to `originalTopic` would deliver it again to
 * every group of that topic (and only orders may write `order-events`). A dead letter of a replay that failed
 * again goes back to the same replay topic.
 */
export function replayTopic(originalTopic: string, group: string): string {
  const suffix = `.replay.${group}`;
  return originalTopic.endsWith(suffix) ? originalTopic : `${originalTopic}${suffix}`;
}

/**
 * The consumer groups of `order-events` that can dead-letter a record, each of which gets a replay topic. The
 * fourth group, `order-metrics` (the exactly-once loop), never dead-letters: it skips a record it cannot parse and
 * has no other per-record failure, so it has nothing to replay.
 */
export const ORDER_EVENTS_DEAD_LETTERING_GROUPS = [
  { groupId: 'analytics', consumer: 'analytics' },
  { groupId: 'audit', consumer: 'audit' },
  { groupId: 'order-notifications', consumer: 'email' },
] as const satisfies readonly { groupId: string; consumer: ServiceName }[];

/** The audit service's group on `order-events.dlt`: it stores every Kafka dead letter for inspect and replay. */
export const DEAD_LETTER_STORE_GROUP = 'audit-dead-letters';

/** How many delayed retries a message gets before it goes to the dead letter queue. */
export const MAX_RETRIES = 3;

/** The headers of a `mail.send` job that the `mail` exchange routes by. */
export const MailHeaders = { kind: 'kind', priority: 'priority' } as const;

/** The sending lanes of the email service: order mail must not wait behind a burst of welcome mail. */
export const MAIL_PRIORITIES = ['high', 'bulk'] as const;
export type MailPriority = (typeof MAIL_PRIORITIES)[number];

export interface ExchangeSpec {
  name: string;
  type: 'fanout' | 'direct' | 'topic' | 'headers';
  publishers: ServiceName[];
  /**
   * Where the broker sends a message that no binding of this exchange matches (the `alternate-exchange`
   * argument), so that it is not dropped. Publishing to this exchange needs no permission on that one.
   */
  alternateExchange?: string;
  /** Internal: no client may publish to it, only the broker routes into it (as another exchange's alternate). */
  internal?: boolean;
}

/**
 * How a queue is bound to a headers exchange: `all` (every listed header has the listed value) or `any` (at least
 * one does). The routing key of such a binding is ignored.
 */
export interface HeadersMatch {
  match: 'all' | 'any';
  headers: Record<string, string>;
}

/** The exchange's arguments as the broker takes them: its `alternate-exchange`, or none. */
export function exchangeArguments(exchange: Pick<ExchangeSpec, 'alternateExchange'>): Record<string, string> {
  return exchange.alternateExchange ? { 'alternate-exchange': exchange.alternateExchange } : {};
}

export interface BindingSpec {
  exchange: string;
  routingKey: string;
  /** Only on a headers exchange: which message headers route to the queue. */
  headers?: HeadersMatch;
}

/** The binding's arguments as the broker takes them: `x-match` and the header values, or none. */
export function bindingArguments(binding: Pick<BindingSpec, 'headers'>): Record<string, string> {
  if (!binding.headers) return {};
  return { 'x-match': binding.headers.match, ...binding.headers.headers };
}

/** A binding in words, for diagrams: its routing key, or for a headers binding `x-match any: priority=high, …`. */
export function bindingLabel(binding: BindingSpec): string {
  if (!binding.headers) return binding.routingKey;
  const values = Object.entries(binding.headers.headers).map(([name, value]) => `${name}=${value}`);
  return `x-match ${binding.headers.match}: ${values.join(', ')}`;
}

export interface QueueSpec {
  name: string;
  consumer: ServiceName;
  bindings: BindingSpec[];
  /**
   * Bound on the backlog (pattern: backpressure): past it the broker refuses new messages with a negative
   * confirm (`overflow: reject-publish`), which the producer turns into a 503, instead of growing without end.
   */
  maxLength?: number;
}

/** Default bound of the load-leveling queue: large enough to absorb a burst, small enough to refuse an endless one. */
export const ORDER_PROCESSING_MAX_LENGTH = 50_000;

export interface TopicSpec {
  name: string;
  partitions: number;
  /** Services that write records to it (through their outbox, or a Kafka transaction). */
  producers: ServiceName[];
  /** Consumer groups that read it, and the service each belongs to. */
  groups: { groupId: string; consumer: ServiceName }[];
  /** The topic's `max.message.bytes`, set on purpose rather than left to the broker's default. */
  maxMessageBytes: number;
}

/**
 * The largest record batch a topic of the topology takes: 1 MiB, the broker's default, written down. A dead
 * letter topic takes 64 KiB more, so a record that fitted its topic still fits there with the headers that
 * dead-lettering adds (error, origin, consumer group); a body that would not fit is replaced by a reference.
 */
export const MAX_MESSAGE_BYTES = 1_048_576;
export const DEAD_LETTER_MAX_MESSAGE_BYTES = MAX_MESSAGE_BYTES + 65_536;

export const exchanges: ExchangeSpec[] = [
  { name: Exchanges.userEvents, type: 'fanout', publishers: ['orders'] },
  { name: Exchanges.sagaCommands, type: 'direct', publishers: ['orders'] },
  { name: Exchanges.sagaReplies, type: 'direct', publishers: ['inventory', 'payments'] },
  { name: Exchanges.orderTasks, type: 'direct', publishers: ['orders'] },
  { name: Exchanges.mail, type: 'headers', publishers: ['email'], alternateExchange: Exchanges.mailUnrouted },
  { name: Exchanges.mailUnrouted, type: 'fanout', publishers: [], internal: true },
  { name: Exchanges.operatorActions, type: 'topic', publishers: [...SERVICES] },
  { name: Exchanges.orderFlow, type: 'topic', publishers: ['orders', 'inventory', 'payments'] },
];

export const queues: QueueSpec[] = [
  {
    name: Queues.orderProcessing,
    consumer: 'orders',
    bindings: [{ exchange: Exchanges.orderTasks, routingKey: Queues.orderProcessing }],
    maxLength: ORDER_PROCESSING_MAX_LENGTH,
  },
  {
    name: Queues.inventoryReserve,
    consumer: 'inventory',
    bindings: [{ exchange: Exchanges.sagaCommands, routingKey: Queues.inventoryReserve }],
  },
  {
    name: Queues.inventoryRelease,
    consumer: 'inventory',
    bindings: [{ exchange: Exchanges.sagaCommands, routingKey: Queues.inventoryRelease }],
  },
  {
    name: Queues.paymentProcess,
    consumer: 'payments',
    bindings: [{ exchange: Exchanges.sagaCommands, routingKey: Queues.paymentProcess }],
  },
  {
    name: Queues.paymentRefund,
    consumer: 'payments',
    bindings: [{ exchange: Exchanges.sagaCommands, routingKey: Queues.paymentRefund }],
  },
  {
    name: Queues.sagaReplies,
    consumer: 'orders',
    bindings: [{ exchange: Exchanges.sagaReplies, routingKey: SAGA_REPLY_KEY }],
  },
  {
    // Pattern: wire-tap. A copy of every saga command and reply for the audit trail, bound with the same keys as
    // the command queues and the orchestrator's reply queue: each message reaches its worker and audit, and the
    // saga's services know nothing of it.
    name: Queues.auditSaga,
    consumer: 'audit',
    bindings: [
      ...SAGA_COMMAND_QUEUES.map((routingKey) => ({ exchange: Exchanges.sagaCommands, routingKey })),
      { exchange: Exchanges.sagaReplies, routingKey: SAGA_REPLY_KEY },
    ],
  },
  ...(
    [
      [Queues.inventoryOrderFlow, 'inventory'],
      [Queues.paymentsOrderFlow, 'payments'],
      [Queues.ordersOrderFlow, 'orders'],
    ] as const
  ).map(([name, consumer]) => ({
    name,
    consumer,
    bindings: ORDER_FLOW_REACTIONS[name].map((routingKey) => ({ exchange: Exchanges.orderFlow, routingKey })),
  })),
  {
    // Pattern: wire-tap. A copy of every event of the choreographed flow, for the audit trail and an order's story.
    name: Queues.auditOrderFlow,
    consumer: 'audit',
    bindings: [{ exchange: Exchanges.orderFlow, routingKey: '#' }],
  },
  {
    // Pattern: audit trail. Every operator action any service carries out, recorded by audit (GET /operator-actions).
    name: Queues.auditOperatorActions,
    consumer: 'audit',
    bindings: [{ exchange: Exchanges.operatorActions, routingKey: '#' }],
  },
  ...[
    [Queues.emailNotifications, 'email'],
    [Queues.analyticsTracking, 'analytics'],
    [Queues.auditLog, 'audit'],
    [Queues.paymentsAccounts, 'payments'],
  ].map(([name, consumer]) => ({
    name: name as string,
    consumer: consumer as ServiceName,
    bindings: [{ exchange: Exchanges.userEvents, routingKey: '' }],
  })),
  {
    // Pattern: priority lanes. Mail someone waits for: every job marked `priority: high`, and (`x-match: any`)
    // every cancellation whatever its priority header says, since a customer whose order failed must hear at once.
    name: Queues.mailPriority,
    consumer: 'email',
    bindings: [
      {
        exchange: Exchanges.mail,
        routingKey: '',
        headers: { match: 'any', headers: { [MailHeaders.priority]: 'high', [MailHeaders.kind]: 'order-cancelled' } },
      },
    ],
  },
  {
    // Mail that may wait: welcome mail marked bulk (`x-match: all`: both headers must match, so a cancellation
    // marked bulk stays in the priority lane alone). A job that matches no binding (no priority header, an
    // unknown value, another kind marked bulk) arrives here through `mail-unrouted`: every job lands in one lane.
    name: Queues.mailBulk,
    consumer: 'email',
    bindings: [
      {
        exchange: Exchanges.mail,
        routingKey: '',
        headers: { match: 'all', headers: { [MailHeaders.priority]: 'bulk', [MailHeaders.kind]: 'welcome' } },
      },
      { exchange: Exchanges.mailUnrouted, routingKey: '' },
    ],
  },
];

/**
 * Pattern: request/reply (docs/request-reply.md). A request on `queries` goes to its responder's queue; the answer
 * goes through `replies` to the reply queue of the process that asked. A query queue has no retry or dead letter
 * queue: a request lives only as long as its caller waits (its per-message TTL is the caller's timeout), and
 * expires instead of being answered for a caller that gave up. Its publishers are the requesters.
 */
export const queryQueues: QueueSpec[] = [
  {
    name: Queues.inventoryQueries,
    consumer: 'inventory',
    bindings: [{ exchange: Exchanges.queries, routingKey: Queues.inventoryQueries }],
  },
];

/** The exchanges of request/reply: requesters publish to `queries`, responders answer on `replies`. */
export const queryExchanges: ExchangeSpec[] = [
  { name: Exchanges.queries, type: 'direct', publishers: ['orders'] },
  {
    name: Exchanges.replies,
    type: 'topic',
    publishers: [...new Set(queryQueues.map((q) => q.consumer))],
  },
];

/** The services that send requests and wait for their answers, each on reply queues of its own. */
export function requesters(): ServiceName[] {
  return queryExchanges.find((e) => e.name === Exchanges.queries)?.publishers ?? [];
}

/**
 * The reply queue of one process of `service`: exclusive to its connection, deleted with it, named by the service
 * and an instance id (a UUID), so that each of several processes of one service gets its own answers.
 */
export function replyQueueName(service: ServiceName, instanceId: string): string {
  return `${service}.replies.${instanceId}`;
}

/** A regular expression (for RabbitMQ permissions) that matches exactly the reply queue names of `service`. */
export function replyQueuePattern(service: ServiceName): string {
  return `^${service}\\.replies\\.[0-9a-f-]+$`;
}

/** The service that answers the requests of `queue`, and who may ask it. Undefined for a queue of no query. */
export function queryRoles(queue: string): { responder: ServiceName; requesters: ServiceName[] } | undefined {
  const spec = queryQueues.find((q) => q.name === queue);
  if (!spec) return undefined;
  const asking = spec.bindings.flatMap((b) => queryExchanges.find((e) => e.name === b.exchange)?.publishers ?? []);
  return { responder: spec.consumer, requesters: [...new Set(asking)] };
}

const consumingServices = [...new Set(queues.map((q) => q.consumer))];

/**
 * The exchanges that carry failures and replays rather than business messages (bound by {@link failureBindings}):
 * every consuming service publishes its retries and dead letters, audit its replays.
 */
export const failureExchanges: ExchangeSpec[] = [
  { name: Exchanges.retries, type: 'topic', publishers: consumingServices },
  { name: Exchanges.deadLetters, type: 'topic', publishers: consumingServices },
  { name: Exchanges.replays, type: 'direct', publishers: ['audit'] },
];

export const topics: TopicSpec[] = [
  {
    name: Topics.orderEvents,
    partitions: 3,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    producers: ['orders'],
    groups: [...ORDER_EVENTS_DEAD_LETTERING_GROUPS, { groupId: 'order-metrics', consumer: 'analytics' }],
  },
  {
    name: Topics.orderEventsDeadLetters,
    partitions: 1,
    maxMessageBytes: DEAD_LETTER_MAX_MESSAGE_BYTES,
    producers: ['analytics', 'audit', 'email'],
    groups: [{ groupId: DEAD_LETTER_STORE_GROUP, consumer: 'audit' }],
  },
  // Pattern: dead letter replay. One topic per group that dead-letters, written by audit alone (operator replays),
  // read by that group alone, with the original's partitions so that a key keeps its partition's order.
  ...ORDER_EVENTS_DEAD_LETTERING_GROUPS.map((group): TopicSpec => ({
    name: replayTopic(Topics.orderEvents, group.groupId),
    partitions: 3,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    producers: ['audit'],
    groups: [group],
  })),
  {
    name: Topics.accountEvents,
    partitions: 3,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    producers: ['payments'],
    groups: [{ groupId: 'analytics-accounts', consumer: 'analytics' }],
  },
  {
    name: Topics.orderMetrics,
    partitions: 1,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    producers: ['analytics'],
    groups: [],
  },
];

/** The queue that holds messages of `queue` that failed for good. */
export function deadLetterQueue(queue: string): string {
  return `${queue}-dlq`;
}

/** The delay queue a message waits in before its `attempt`-th retry (1-based). */
export function retryQueue(queue: string, attempt: number): string {
  return `${queue}-retry-${attempt}`;
}

/** The delay queues of `queue`, in the order a failing message goes through them. */
export function retryQueues(queue: string): string[] {
  return Array.from({ length: MAX_RETRIES }, (_, i) => retryQueue(queue, i + 1));
}

/** The queues a service consumes. */
export function consumedBy(service: ServiceName): string[] {
  return queues.filter((q) => q.consumer === service).map((q) => q.name);
}

/**
 * The bindings that carry failures and replays, for every queue of the topology: each retry queue on `retries` and
 * each dead letter queue on `dead-letters` under its own name, and each queue on `replays` under its own name.
 */
export function failureBindings(): { exchange: string; queue: string; routingKey: string }[] {
  return queues.flatMap((q) => [
    ...retryQueues(q.name).map((name) => ({ exchange: Exchanges.retries, queue: name, routingKey: name })),
    { exchange: Exchanges.deadLetters, queue: deadLetterQueue(q.name), routingKey: deadLetterQueue(q.name) },
    { exchange: Exchanges.replays, queue: q.name, routingKey: q.name },
  ]);
}

/** Every queue the provisioner creates: each consumed queue with its retry queues and dead letter queue. */
export function allQueueNames(): string[] {
  return queues.flatMap((q) => [q.name, deadLetterQueue(q.name), ...retryQueues(q.name)]);
}

/** The Kafka topic name with the deployment's prefix (tests use their own prefix to stay isolated). */
export function topicName(prefix: string, topic: string): string {
  return `${prefix}${topic}`;
}

/**
 * The RabbitMQ user of operators' tools (provisioning, the test harness, the management UI): it may send to any
 * queue of the topology, as it may configure any of them.
 */
export const OPERATOR_AMQP_USER = 'messaging-admin';

/**
 * Saga replies and the choreographed flow's events name their sender in their type: `inventory.*` come from
 * inventory, `payment.*` from payments, `order.*` from orders.
 */
const REPLY_SENDERS: Record<string, ServiceName> = { inventory: 'inventory', payment: 'payments', order: 'orders' };

/**
 * Pattern: validated sender (AMQP `user-id`). Who may have sent a message of `type` to `queue`: the publishers of the
 * exchanges the queue is bound to, the consuming service itself (its delayed retries are its own copies), audit
 * (it replays dead letters) and the operators' user. RabbitMQ refuses a publish whose `user-id` is not the
 * connection's user, so the property names the account that really sent the message. On a queue bound to the saga
 * replies (the orchestrator's, and audit's wire-tap), each reply must also come from the service its type names:
 * inventory cannot report a payment; and a command the wire-tap also gets (its type is its routing key) must come
 * from the orchestrator, not from a participant. Undefined for a queue outside the topology (no rule).
 */
export function allowedSenders(queue: string, type?: string): string[] | undefined {
  const spec = queues.find((q) => q.name === queue);
  if (!spec) return undefined;
  const publishers = new Set<string>(
    spec.bindings.flatMap((b) => exchanges.find((e) => e.name === b.exchange)?.publishers ?? []),
  );
  if (type && spec.bindings.some((b) => b.exchange === Exchanges.sagaReplies)) {
    const command = spec.bindings.some((b) => b.exchange === Exchanges.sagaCommands && b.routingKey === type);
    const senders = command
      ? (exchanges.find((e) => e.name === Exchanges.sagaCommands)?.publishers ?? [])
      : [REPLY_SENDERS[type.split('.')[0] ?? '']];
    for (const p of [...publishers]) if (!senders.includes(p as ServiceName)) publishers.delete(p);
  }
  if (type && spec.bindings.some((b) => b.exchange === Exchanges.orderFlow)) {
    // On the flow's exchange every service publishes, but each only the events its type prefix names.
    const sender = REPLY_SENDERS[type.split('.')[0] ?? ''];
    for (const p of [...publishers]) if (p !== sender) publishers.delete(p);
  }
  return [...new Set([...publishers, spec.consumer, 'audit', OPERATOR_AMQP_USER])];
}
