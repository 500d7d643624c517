import { createHash, randomBytes } from 'node:crypto';
import {
  CONSOLE_PERMISSIONS,
  CONSOLE_USER,
  SERVICES,
  allQueueNames,
  bindingArguments,
  exchangeArguments,
  exchanges,
  failureBindings,
  failureExchanges,
  permissionsFor,
  policiesFor,
  queryExchanges,
  queryQueues,
  queues,
  topicPermissionsFor,
  type ServiceName,
} from '@am/messaging';

/**
 * The RabbitMQ definitions file that compose loads at broker boot (`compose/rabbitmq/definitions.json`), built
 * from the same topology module the TypeScript provisioner uses, so the two cannot drift apart: the unit test
 * compares the committed file with this.
 */

export const VHOST = 'messaging';
/** The admin user of the native stack (infra/up) and the provisioner's default. */
export const ADMIN_USER = 'messaging-admin';

/**
 * What the committed file has in place of a user's password hash: compose/rabbitmq/start.sh replaces it at boot
 * with the hash of the user's password from .env (RABBITMQ_PASSWORDS), so the repository holds no credential.
 */
export const passwordPlaceholder = (user: string) => `{{password-hash:${user}}}`;

/**
 * RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt ++ sha256(salt ++ utf8(password))) with a 4-byte
 * salt. Definitions files carry hashes, never passwords.
 */
export function rabbitPasswordHash(password: string, salt: Buffer = randomBytes(4)): string {
  if (salt.length !== 4) throw new Error('the salt of a RabbitMQ password hash has 4 bytes');
  const digest = createHash('sha256')
    .update(Buffer.concat([salt, Buffer.from(password, 'utf8')]))
    .digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

/** Whether `hash` (as in a definitions file) is the sha256 hash of `password`. */
export function rabbitPasswordMatches(hash: string, password: string): boolean {
  const raw = Buffer.from(hash, 'base64');
  return raw.length === 36 && rabbitPasswordHash(password, raw.subarray(0, 4)) === hash;
}

export interface DefinitionsUser {
  name: string;
  password_hash: string;
  hashing_algorithm: 'rabbit_password_hashing_sha256';
  tags: string[];
  limits: Record<string, never>;
}

export interface Definitions {
  users: DefinitionsUser[];
  vhosts: { name: string; description: string; tags: string[] }[];
  permissions: { user: string; vhost: string; configure: string; write: string; read: string }[];
  topic_permissions: { user: string; vhost: string; exchange: string; write: string; read: string }[];
  parameters: never[];
  global_parameters: never[];
  policies: {
    vhost: string;
    name: string;
    pattern: string;
    'apply-to': 'queues';
    definition: Record<string, unknown>;
    priority: number;
  }[];
  queues: { name: string; vhost: string; durable: true; auto_delete: false; arguments: Record<string, never> }[];
  exchanges: {
    name: string;
    vhost: string;
    type: string;
    durable: true;
    auto_delete: false;
    internal: boolean;
    arguments: Record<string, string>;
  }[];
  bindings: {
    source: string;
    vhost: string;
    destination: string;
    destination_type: 'queue';
    routing_key: string;
    arguments: Record<string, string>;
  }[];
}

/**
 * The users of the definitions file: the admin, one per service, and the control room's statistics account
 * (services/console: tag `monitoring`, permissions matching no resource), each hash a placeholder.
 */
export function definitionUsers(): DefinitionsUser[] {
  const user = (name: string, tags: string[]): DefinitionsUser => ({
    name,
    password_hash: passwordPlaceholder(name),
    hashing_algorithm: 'rabbit_password_hashing_sha256',
    tags,
    limits: {},
  });
  return [
    user(ADMIN_USER, ['administrator']),
    ...SERVICES.map((s: ServiceName) => user(s, [])),
    user(CONSOLE_USER, ['monitoring']),
  ];
}

/**
 * Everything the provisioner (libs/messaging/src/provision/rabbitmq-provisioner.ts) creates, in definitions form:
 * the vhost, the admin's full, the services' least-privilege and the console's empty permissions, the policies (same priority and
 * apply-to as the provisioner), the exchanges, every queue with its retry and dead letter queues, the query queues,
 * the bindings.
 *
 * `cluster`: the definitions of the three nodes of the cluster profile (`compose/rabbitmq/definitions.cluster.json`,
 * docker-compose.cluster.yml): the quorum queues' policies (dead-lettering at least once, overflow reject-publish, as
 * the provisioner sets them with RABBITMQ_QUEUE_TYPE=quorum) and no queue and no binding. Node 1 imports its
 * definitions before the others have joined, and a quorum queue declared then would have node 1 as its only member:
 * the topology job declares the queues once all three nodes are up, so each has three.
 */
export function buildDefinitions(variant: 'single' | 'cluster' = 'single'): Definitions {
  const cluster = variant === 'cluster';
  const definitions: Definitions = {
    users: definitionUsers(),
    vhosts: [{ name: VHOST, description: 'async-messaging reference system', tags: [] }],
    permissions: [
      { user: ADMIN_USER, vhost: VHOST, configure: '.*', write: '.*', read: '.*' },
      ...SERVICES.map((s) => ({ user: s, vhost: VHOST, ...permissionsFor(s) })),
      { user: CONSOLE_USER, vhost: VHOST, ...CONSOLE_PERMISSIONS },
    ],
    topic_permissions: SERVICES.flatMap((s) => topicPermissionsFor(s).map((t) => ({ user: s, vhost: VHOST, ...t }))),
    parameters: [],
    global_parameters: [],
    policies: policiesFor({}, cluster ? 'quorum' : 'classic').map((p) => ({
      vhost: VHOST,
      name: p.name,
      pattern: p.pattern,
      'apply-to': 'queues',
      definition: p.definition,
      priority: 10,
    })),
    queues: [...allQueueNames(), ...queryQueues.map((q) => q.name)].map((name) => ({
      name,
      vhost: VHOST,
      durable: true,
      auto_delete: false,
      arguments: {},
    })),
    exchanges: [...exchanges, ...failureExchanges, ...queryExchanges].map((e) => ({
      name: e.name,
      vhost: VHOST,
      type: e.type,
      durable: true,
      auto_delete: false,
      internal: e.internal ?? false,
      arguments: exchangeArguments(e),
    })),
    bindings: [
      ...queues.flatMap((q) =>
        q.bindings.map((b) => ({
          exchange: b.exchange,
          queue: q.name,
          routingKey: b.routingKey,
          arguments: bindingArguments(b),
        })),
      ),
      ...failureBindings().map((b) => ({ ...b, arguments: {} })),
      ...queryQueues.flatMap((q) =>
        q.bindings.map((b) => ({ exchange: b.exchange, queue: q.name, routingKey: b.routingKey, arguments: {} })),
      ),
    ].map((b) => ({
      source: b.exchange,
      vhost: VHOST,
      destination: b.queue,
      destination_type: 'queue' as const,
      routing_key: b.routingKey,
      arguments: b.arguments,
    })),
  };
  return cluster ? { ...definitions, queues: [], bindings: [] } : definitions;
}
