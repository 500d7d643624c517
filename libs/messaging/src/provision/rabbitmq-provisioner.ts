import {
  DEFAULT_EXCHANGE,
  Exchanges,
  Queues,
  SERVICES,
  allQueueNames,
  bindingArguments,
  consumedBy,
  deadLetterQueue,
  exchangeArguments,
  exchanges,
  failureBindings,
  failureExchanges,
  queryExchanges,
  queryQueues,
  queues,
  replyQueuePattern,
  requesters,
  retryQueues,
  type ServiceName,
} from '../topology.js';

/** Where the RabbitMQ management API is and who may change it. */
export interface RabbitAdmin {
  /** http://127.0.0.1:15672 */
  managementUrl: string;
  user: string;
  password: string;
}

export interface RabbitProvisionOptions {
  vhost: string;
  /** Password of each service user; users are named after the services. */
  passwords: Record<ServiceName, string>;
  /** Extra queue arguments applied through policy, per queue (for example a max length). */
  queuePolicies?: Record<string, Record<string, unknown>>;
  /** Password of the article's account ({@link ARTICLE_USER}); the account is not made without one. */
  articlePassword?: string;
  /** Password of the control room's account ({@link CONSOLE_USER}); the account is not made without one. */
  consolePassword?: string;
  /**
   * `classic` (the default: one node) or `quorum` (a cluster, docs/clusters.md): every queue the provisioner
   * declares, the retry and dead letter queues included, replicated on the cluster's nodes by Raft.
   */
  queueType?: QueueType;
}

export type QueueType = 'classic' | 'quorum';

/** The declaration arguments of the provisioner's queues: the queue type is fixed at declaration, not by policy. */
export function queueArguments(queueType: QueueType = 'classic'): Record<string, unknown> {
  return queueType === 'quorum' ? { 'x-queue-type': 'quorum' } : {};
}

/**
 * What a quorum queue adds to its policy: dead-lettering at least once (a message moves to its dead letter or retry
 * target only once that queue has it; at most once, the default, drops it if the target is down), which RabbitMQ
 * allows only with `overflow: reject-publish`.
 */
function quorumPolicy(queueType: QueueType): Record<string, unknown> {
  return queueType === 'quorum' ? { 'dead-letter-strategy': 'at-least-once', overflow: 'reject-publish' } : {};
}

/**
 * The control room's account (services/console): the `monitoring` tag lets it read the management API's statistics
 * of every queue, and its permissions on the vhost match no resource at all, so it can neither read a message, nor
 * publish one, nor declare or delete anything (a test proves each refusal).
 */
export const CONSOLE_USER = 'console';
export const CONSOLE_PERMISSIONS = { configure: '^$', write: '^$', read: '^$' } as const;

/**
 * The account for the article's own code listings (docs/security.md#the-articles-own-clients): the user they connect
 * as when pointed at the project's vhost. Not a service: nothing of the project connects as it.
 */
export const ARTICLE_USER = 'article';

/** The queues the article's listings declare, consume and send to by name, and the exchange they publish to. */
export const ARTICLE_QUEUES = [
  Queues.orderProcessing,
  Queues.emailNotifications,
  Queues.analyticsTracking,
  Queues.auditLog,
] as const;

/**
 * What the article's listings need and nothing more: declaring (configure) and binding (write) its queues and the
 * `user-events` exchange as they are, reading them, publishing to `user-events`, and sending to its queues by name,
 * which in AMQP 0-9-1 goes through the default exchange: write on `amq.default` is write on every queue of the
 * vhost. That is the one permission no service has, and why this account exists apart from them. The saga's
 * queues and exchanges, the retries and the dead letters stay out of its reach.
 */
export function articlePermissions(): { configure: string; write: string; read: string } {
  const own = [...ARTICLE_QUEUES, Exchanges.userEvents];
  return { configure: anyOf(own), write: anyOf(['amq.default', ...own]), read: anyOf(own) };
}

function escapeRegex(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}

function anyOf(names: string[]): string {
  return names.length === 0 ? '^$' : `^(${names.map(escapeRegex).join('|')})$`;
}

/** `anyOf(names)`, or also matching the regular expression `pattern` (anchored on its own). */
function anyOfOr(names: string[], pattern: string | undefined): string {
  if (pattern === undefined) return anyOf(names);
  return names.length === 0 ? pattern : `${anyOf(names)}|${pattern}`;
}

/**
 * Least-privilege permissions of one service user. Nobody but the provisioner configures (declares) anything,
 * except a requester's reply queues (request/reply): each process declares its own, exclusive and auto-delete,
 * named by its service and an instance id, so configure matches only those names, and write (for the binding) and
 * read (for the binding's source `replies`, and to consume) add them and nothing else.
 * A service writes only to the exchanges it publishes to, never to the default exchange (that would be write access
 * to every queue); it reads the queues it consumes. Its failures go to the `retries` and `dead-letters` topic
 * exchanges, where {@link topicPermissionsFor} holds it to its own queues' retry and dead letter queues.
 */
export function permissionsFor(service: ServiceName): { configure: string; write: string; read: string } {
  const writes = [...exchanges, ...failureExchanges, ...queryExchanges]
    .filter((e) => e.publishers.includes(service))
    .map((e) => e.name);
  const reads = [...consumedBy(service), ...queryQueues.filter((q) => q.consumer === service).map((q) => q.name)];
  if (service === 'audit') reads.push(...queues.map((q) => deadLetterQueue(q.name)));
  const replies = requesters().includes(service) ? replyQueuePattern(service) : undefined;
  if (replies) reads.push(Exchanges.replies);
  return {
    configure: replies ?? '^$',
    write: anyOfOr(writes, replies),
    read: anyOfOr(reads, replies),
  };
}

/**
 * Topic permissions of one service user: on `retries` it may publish only with the names of its own queues' retry
 * queues as routing keys, on `dead-letters` only with its own dead letter queues' names. Without them, a service
 * allowed to publish its retries could send a message to any queue's retry queue, and so, after the delay, to any
 * queue.
 */
export function topicPermissionsFor(service: ServiceName): { exchange: string; write: string; read: string }[] {
  const consumed = consumedBy(service);
  const topic: { exchange: string; write: string; read: string }[] = [];
  if (consumed.length > 0) {
    topic.push(
      { exchange: Exchanges.retries, write: anyOf(consumed.flatMap(retryQueues)), read: '^$' },
      { exchange: Exchanges.deadLetters, write: anyOf(consumed.map(deadLetterQueue)), read: '^$' },
    );
  }
  // On `replies`, a requester binds only its own reply queues (read is checked against the binding key), and a
  // responder answers only to a requester's reply queue (write is checked against the routing key).
  const requester = requesters().includes(service);
  const responder = queryQueues.some((q) => q.consumer === service);
  if (requester || responder) {
    topic.push({
      exchange: Exchanges.replies,
      write: responder ? anyPattern(requesters().map(replyQueuePattern)) : '^$',
      read: requester ? replyQueuePattern(service) : '^$',
    });
  }
  return topic;
}

/** One regular expression matching any of `patterns` (each anchored on its own). */
function anyPattern(patterns: string[]): string {
  return patterns.length === 0 ? '^$' : patterns.join('|');
}

/**
 * The policies that give every consumed queue its dead-lettering and every retry queue its way back.
 * Features live in policies, not in queue arguments, so the article's own snippets (which declare
 * `{ durable: true }` only) can declare the same queues without a conflict.
 */
export function policiesFor(
  extra: Record<string, Record<string, unknown>> = {},
  queueType: QueueType = 'classic',
): { name: string; pattern: string; definition: Record<string, unknown> }[] {
  return queues.flatMap((q) => [
    {
      name: `dlx:${q.name}`,
      pattern: `^${escapeRegex(q.name)}$`,
      definition: {
        'dead-letter-exchange': DEFAULT_EXCHANGE,
        'dead-letter-routing-key': deadLetterQueue(q.name),
        ...quorumPolicy(queueType),
        ...(q.maxLength === undefined ? {} : { 'max-length': q.maxLength, overflow: 'reject-publish' }),
        ...extra[q.name],
      },
    },
    ...retryQueues(q.name).map((retry) => ({
      name: `retry:${retry}`,
      pattern: `^${escapeRegex(retry)}$`,
      definition: {
        'dead-letter-exchange': DEFAULT_EXCHANGE,
        'dead-letter-routing-key': q.name,
        ...quorumPolicy(queueType),
      },
    })),
  ]);
}

/** A small client of the RabbitMQ management HTTP API. */
export class RabbitManagement {
  constructor(private readonly admin: RabbitAdmin) {}

  async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(new URL(`/api${path}`, this.admin.managementUrl), {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${this.admin.user}:${this.admin.password}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    if (!response.ok && !(method === 'DELETE' && response.status === 404)) {
      throw new Error(`RabbitMQ management ${method} ${path}: ${response.status} ${await response.text()}`);
    }
    const text = await response.text();
    return text ? (JSON.parse(text) as unknown) : undefined;
  }

  /** Number of messages in a queue (ready plus unacknowledged), as the management API last sampled it. */
  async queueDepth(vhost: string, queue: string): Promise<number> {
    const info = (await this.request('GET', `/queues/${enc(vhost)}/${enc(queue)}`)) as { messages?: number };
    return info.messages ?? 0;
  }

  async deleteVhost(vhost: string): Promise<void> {
    await this.request('DELETE', `/vhosts/${enc(vhost)}`);
  }
}

const enc = encodeURIComponent;

/** Creates (or brings up to date) the vhost, the service users, their permissions, the policies and the topology. */
export async function provisionRabbit(admin: RabbitAdmin, options: RabbitProvisionOptions): Promise<void> {
  const api = new RabbitManagement(admin);
  const v = enc(options.vhost);
  await api.request('PUT', `/vhosts/${v}`, {});
  await api.request('PUT', `/permissions/${v}/${enc(admin.user)}`, { configure: '.*', write: '.*', read: '.*' });
  for (const service of SERVICES) {
    await api.request('PUT', `/users/${enc(service)}`, { password: options.passwords[service], tags: '' });
    await api.request('PUT', `/permissions/${v}/${enc(service)}`, permissionsFor(service));
    for (const topic of topicPermissionsFor(service)) {
      await api.request('PUT', `/topic-permissions/${v}/${enc(service)}`, topic);
    }
  }
  if (options.articlePassword) {
    await api.request('PUT', `/users/${enc(ARTICLE_USER)}`, { password: options.articlePassword, tags: '' });
    await api.request('PUT', `/permissions/${v}/${enc(ARTICLE_USER)}`, articlePermissions());
  }
  if (options.consolePassword) {
    await api.request('PUT', `/users/${enc(CONSOLE_USER)}`, { password: options.consolePassword, tags: 'monitoring' });
    await api.request('PUT', `/permissions/${v}/${enc(CONSOLE_USER)}`, CONSOLE_PERMISSIONS);
  }
  for (const policy of policiesFor(options.queuePolicies, options.queueType)) {
    await api.request('PUT', `/policies/${v}/${enc(policy.name)}`, {
      pattern: policy.pattern,
      definition: policy.definition,
      'apply-to': 'queues',
      priority: 10,
    });
  }
  for (const exchange of [...exchanges, ...failureExchanges, ...queryExchanges]) {
    await api.request('PUT', `/exchanges/${v}/${enc(exchange.name)}`, {
      type: exchange.type,
      durable: true,
      auto_delete: false,
      internal: exchange.internal ?? false,
      arguments: exchangeArguments(exchange),
    });
  }
  for (const name of [...allQueueNames(), ...queryQueues.map((q) => q.name)]) {
    await api.request('PUT', `/queues/${v}/${enc(name)}`, {
      durable: true,
      auto_delete: false,
      arguments: queueArguments(options.queueType),
    });
  }
  for (const queue of [...queues, ...queryQueues]) {
    for (const binding of queue.bindings) {
      await api.request('POST', `/bindings/${v}/e/${enc(binding.exchange)}/q/${enc(queue.name)}`, {
        routing_key: binding.routingKey,
        arguments: bindingArguments(binding),
      });
    }
  }
  for (const binding of failureBindings()) {
    await api.request('POST', `/bindings/${v}/e/${enc(binding.exchange)}/q/${enc(binding.queue)}`, {
      routing_key: binding.routingKey,
      arguments: {},
    });
  }
}
