import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import {
  CONSOLE_PERMISSIONS,
  CONSOLE_USER,
  MAX_RETRIES,
  Queues,
  SERVICES,
  deadLetterQueue,
  exchanges,
  failureExchanges,
  permissionsFor,
  queryExchanges,
  queues,
  replyQueuePattern,
  requesters,
  retryQueue,
} from '@am/messaging';
import {
  ADMIN_USER,
  VHOST,
  buildDefinitions,
  passwordPlaceholder,
  rabbitPasswordMatches,
  type Definitions,
} from './rabbitmq-definitions.js';
import { renderDefinitions } from './render-definitions.js';

const file = new URL('../../compose/rabbitmq/definitions.json', import.meta.url);
/** The cluster profile's (docker-compose.cluster.yml): quorum policies, no queue, no binding. */
const clusterFile = new URL('../../compose/rabbitmq/definitions.cluster.json', import.meta.url);

function readCommitted(at: URL = file): Definitions | undefined {
  try {
    return JSON.parse(readFileSync(at, 'utf8')) as Definitions;
  } catch {
    return undefined;
  }
}

// Regenerate after a topology change: UPDATE_DEFINITIONS=1 npx vitest run --project unit tests/compose
if (process.env.UPDATE_DEFINITIONS === '1') {
  for (const [at, variant] of [
    [file, 'single'],
    [clusterFile, 'cluster'],
  ] as const) {
    const path = fileURLToPath(at);
    const json = JSON.stringify(buildDefinitions(variant), null, 2);
    writeFileSync(at, await format(json, { ...(await resolveConfig(path)), filepath: path }));
  }
}

describe('compose/rabbitmq/definitions.json', () => {
  const committed = readCommitted();

  it('exists and is the definitions the topology module gives (regenerate with UPDATE_DEFINITIONS=1)', () => {
    expect(committed, 'compose/rabbitmq/definitions.json is missing or not JSON').toBeDefined();
    expect(committed).toEqual(buildDefinitions());
  });

  it('has the admin, one user per service and the console, no guest, and no password: each hash is a placeholder', () => {
    const users = committed!.users;
    expect(users.map((u) => u.name).sort()).toEqual([ADMIN_USER, ...SERVICES, CONSOLE_USER].sort());
    expect(users.some((u) => u.name === 'guest')).toBe(false);
    const tags: Record<string, string[]> = { [ADMIN_USER]: ['administrator'], [CONSOLE_USER]: ['monitoring'] };
    for (const user of users) {
      expect(user.password_hash, user.name).toBe(passwordPlaceholder(user.name));
      expect(user.tags, user.name).toEqual(tags[user.name] ?? []);
    }
  });

  it("gives the console's account the statistics (tag monitoring) and no permission on any resource", () => {
    expect(committed!.permissions.find((p) => p.user === CONSOLE_USER)).toEqual({
      user: CONSOLE_USER,
      vhost: VHOST,
      ...CONSOLE_PERMISSIONS,
    });
    for (const pattern of Object.values(CONSOLE_PERMISSIONS)) {
      for (const resource of ['amq.default', ...queues.map((q) => q.name), ...exchanges.map((e) => e.name)])
        expect(new RegExp(pattern).test(resource), resource).toBe(false);
    }
    expect(committed!.topic_permissions.filter((t) => t.user === CONSOLE_USER)).toEqual([]);
  });

  it('is rendered at boot by compose/rabbitmq/start.sh with the hash of each password in RABBITMQ_PASSWORDS', () => {
    const passwords = Object.fromEntries(
      [ADMIN_USER, ...SERVICES, CONSOLE_USER].map((u) => [u, `${u}-Pw${u.length}x`]),
    );
    const rendered = renderDefinitions(passwords);
    for (const user of rendered.users) {
      expect(rabbitPasswordMatches(user.password_hash, passwords[user.name]!), user.name).toBe(true);
      expect(rabbitPasswordMatches(user.password_hash, 'another password'), user.name).toBe(false);
    }
    // Only the hashes differ from the committed file.
    expect({ ...rendered, users: rendered.users.map((u) => ({ ...u, password_hash: '' })) }).toEqual({
      ...committed,
      users: committed!.users.map((u) => ({ ...u, password_hash: '' })),
    });
    // The same passwords give the same file (the broker re-imports it only when a password changed); another
    // password another hash.
    expect(renderDefinitions(passwords)).toEqual(rendered);
    const rotated = renderDefinitions({ ...passwords, orders: 'rotated' });
    expect(rotated.users.find((u) => u.name === 'orders')!.password_hash).not.toBe(
      rendered.users.find((u) => u.name === 'orders')!.password_hash,
    );
  });

  it('is not rendered, and the broker not started, while a user has no password', () => {
    const passwords = Object.fromEntries([...SERVICES, CONSOLE_USER].map((u) => [u, `${u}-password`]));
    expect(() => renderDefinitions(passwords)).toThrow(/no password for: \{\{password-hash:messaging-admin\}\}/);
    expect(() => renderDefinitions({ ...passwords, [ADMIN_USER]: '' })).toThrow(/no password for messaging-admin/);
    const withoutConsole = Object.fromEntries(SERVICES.map((u) => [u, `${u}-password`]));
    expect(() => renderDefinitions({ ...withoutConsole, [ADMIN_USER]: 'admin-password' })).toThrow(
      /no password for: \{\{password-hash:console\}\}/,
    );
  });

  it('gives the services least privilege: configure only of reply queues, write and read as permissionsFor says', () => {
    for (const service of SERVICES) {
      const p = committed!.permissions.find((x) => x.user === service);
      expect(p).toEqual({ user: service, vhost: VHOST, ...permissionsFor(service) });
      // A requester (request/reply) declares its processes' reply queues, and nothing else; the others nothing.
      expect(p!.configure).toBe(requesters().includes(service) ? replyQueuePattern(service) : '^$');
    }
    expect(requesters()).toEqual(['orders']);
  });

  it('declares every consumed queue with its -dlq and -retry-1..3 queues, durable and without arguments', () => {
    const names = committed!.queues.map((q) => q.name);
    for (const q of queues) {
      expect(names).toContain(q.name);
      expect(names).toContain(deadLetterQueue(q.name));
      for (let attempt = 1; attempt <= MAX_RETRIES; attempt++) expect(names).toContain(retryQueue(q.name, attempt));
    }
    expect(names).toContain('order-processing-dlq');
    expect(names).toContain(Queues.orderProcessing);
    expect(
      committed!.queues.every((q) => q.vhost === VHOST && q.durable && Object.keys(q.arguments).length === 0),
    ).toBe(true);
  });

  it('dead-letters every consumed queue to its -dlq and returns every retry queue to its queue, by policy', () => {
    for (const q of queues) {
      const dlx = committed!.policies.find((p) => p.name === `dlx:${q.name}`);
      expect(dlx?.definition).toMatchObject({
        'dead-letter-exchange': '',
        'dead-letter-routing-key': deadLetterQueue(q.name),
      });
      expect(new RegExp(dlx!.pattern).test(q.name)).toBe(true);
      expect(new RegExp(dlx!.pattern).test(deadLetterQueue(q.name))).toBe(false);
      for (let attempt = 1; attempt <= MAX_RETRIES; attempt++) {
        const retry = committed!.policies.find((p) => p.name === `retry:${retryQueue(q.name, attempt)}`);
        expect(retry?.definition).toEqual({ 'dead-letter-exchange': '', 'dead-letter-routing-key': q.name });
      }
    }
  });

  it('has the exchanges and bindings of the topology (user-events fanout to its four subscribers)', () => {
    expect(committed!.exchanges.map((e) => [e.name, e.type])).toEqual(
      [...exchanges, ...failureExchanges, ...queryExchanges].map((e) => [e.name, e.type]),
    );
    const fanout = committed!.bindings.filter((b) => b.source === 'user-events').map((b) => b.destination);
    expect(fanout.sort()).toEqual(
      [Queues.emailNotifications, Queues.analyticsTracking, Queues.auditLog, Queues.paymentsAccounts].sort(),
    );
  });

  it('gives no service write access to the default exchange, and holds each to its own retry and dead letter queues', () => {
    for (const permission of committed!.permissions.filter((p) => p.user !== 'messaging-admin')) {
      expect(new RegExp(permission.write).test('amq.default'), permission.user).toBe(false);
      // The console's `^$` (RabbitMQ's "nothing") matches the empty name, which the broker never checks: a publish to
      // the default exchange is checked as amq.default (rabbitmq-definitions.int.spec.ts sees it refused).
      if (permission.user !== CONSOLE_USER) expect(new RegExp(permission.write).test(''), permission.user).toBe(false);
    }
    for (const q of queues) {
      const own = committed!.topic_permissions.filter((t) => t.user === q.consumer);
      const others = committed!.topic_permissions.filter((t) => t.user !== q.consumer);
      const writes = (list: typeof own, exchange: string, key: string) =>
        list.some((t) => t.exchange === exchange && new RegExp(t.write).test(key));
      expect(writes(own, 'retries', retryQueue(q.name, 1)), q.name).toBe(true);
      expect(writes(own, 'dead-letters', deadLetterQueue(q.name)), q.name).toBe(true);
      expect(writes(others, 'retries', retryQueue(q.name, 1)), q.name).toBe(false);
      expect(writes(others, 'dead-letters', deadLetterQueue(q.name)), q.name).toBe(false);
    }
  });
});

describe('compose/rabbitmq/definitions.cluster.json (the cluster profile)', () => {
  const committed = readCommitted(clusterFile);
  const single = readCommitted();

  it('exists and is the cluster definitions the topology module gives (regenerate with UPDATE_DEFINITIONS=1)', () => {
    expect(committed, 'compose/rabbitmq/definitions.cluster.json is missing or not JSON').toBeDefined();
    expect(committed).toEqual(buildDefinitions('cluster'));
  });

  it('declares no queue and no binding: the topology job declares the quorum queues once all three nodes are up', () => {
    expect(committed!.queues).toEqual([]);
    expect(committed!.bindings).toEqual([]);
  });

  it("has the single node's users (placeholders only), vhost, permissions and exchanges", () => {
    for (const key of ['users', 'vhosts', 'permissions', 'topic_permissions', 'exchanges'] as const) {
      expect(committed![key], key).toEqual(single![key]);
    }
    for (const user of committed!.users) expect(user.password_hash).toBe(passwordPlaceholder(user.name));
  });

  it('gives every queue policy what a quorum queue needs: dead-lettering at least once, overflow reject-publish', () => {
    expect(committed!.policies.map((p) => p.name)).toEqual(single!.policies.map((p) => p.name));
    for (const policy of committed!.policies) {
      expect(policy.definition, policy.name).toMatchObject({
        'dead-letter-strategy': 'at-least-once',
        overflow: 'reject-publish',
      });
      const classic = single!.policies.find((p) => p.name === policy.name)!;
      expect(classic.definition, policy.name).not.toHaveProperty('dead-letter-strategy');
    }
  });
});
