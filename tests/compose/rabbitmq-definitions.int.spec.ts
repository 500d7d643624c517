import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONSOLE_USER,
  RabbitManagement,
  SERVICES,
  nativePassword,
  provisionRabbit,
  type ServiceName,
} from '@am/messaging';
import { testEnv } from '@am/testing';
import { ADMIN_USER, VHOST, type Definitions } from './rabbitmq-definitions.js';
import { renderDefinitions } from './render-definitions.js';

/**
 * compose/rabbitmq/definitions.json against a real broker (the machine's RabbitMQ; compose runs 4.x, this machine
 * 3.10: the definitions format is the same), rendered with this run's passwords by the script the compose broker
 * runs at boot. The file is imported into a vhost of this run, with the service users
 * renamed so the machine's own users are left alone; then the provisioner runs over it, as the compose topology job
 * does after the broker has loaded the file at boot.
 */

const env = testEnv();
const vhost = `compose-${env.runId}`;
const userPrefix = `compose-${env.runId}-`;
const api = new RabbitManagement(env.admin);
const host = new URL(env.admin.managementUrl).hostname;
const enc = encodeURIComponent;

/** A password per user for this run, as .env would give them. */
const passwords = Object.fromEntries(
  [ADMIN_USER, ...SERVICES, CONSOLE_USER].map((user) => [
    user,
    `${user}-${env.runId}-${Math.random().toString(36).slice(2)}`,
  ]),
);
/** The committed file as the broker's entrypoint (compose/rabbitmq/start.sh) renders it at boot. */
const committed = renderDefinitions(passwords);

/** The committed file, moved to this run's vhost and users (the admin is the machine's: not imported). */
function forThisRun(defs: Definitions): Definitions {
  const user = (name: string) => (name === ADMIN_USER ? ADMIN_USER : `${userPrefix}${name}`);
  const moved = <T extends { vhost: string }>(items: T[]) => items.map((i) => ({ ...i, vhost }));
  return {
    ...defs,
    users: defs.users.filter((u) => u.name !== ADMIN_USER).map((u) => ({ ...u, name: user(u.name) })),
    vhosts: defs.vhosts.map((v) => ({ ...v, name: vhost })),
    permissions: moved(defs.permissions).map((p) => ({ ...p, user: user(p.user) })),
    topic_permissions: moved(defs.topic_permissions).map((p) => ({ ...p, user: user(p.user) })),
    policies: moved(defs.policies),
    queues: moved(defs.queues),
    exchanges: moved(defs.exchanges),
    bindings: moved(defs.bindings),
  };
}

interface Exported {
  policies: { name: string; pattern: string; definition: Record<string, unknown>; priority: number }[];
  queues: { name: string; durable: boolean; arguments: Record<string, unknown> }[];
  exchanges: { name: string; type: string; durable: boolean }[];
  bindings: { source: string; destination: string; routing_key: string }[];
}

/** The vhost's objects as the broker reports them, in a comparable form. */
async function brokerObjects() {
  const defs = (await api.request('GET', `/definitions/${enc(vhost)}`)) as Exported;
  return {
    policies: defs.policies.map((p) => [p.name, p.pattern, p.definition, p.priority]).sort(),
    queues: defs.queues.map((q) => [q.name, q.durable, q.arguments]).sort(),
    exchanges: defs.exchanges.map((e) => [e.name, e.type, e.durable]).sort(),
    bindings: defs.bindings.map((b) => [b.source, b.destination, b.routing_key]).sort(),
  };
}

const amqpUrl = (user: string, password: string) => `amqp://${enc(user)}:${enc(password)}@${host}:5672/${enc(vhost)}`;

describe('compose/rabbitmq/definitions.json on a real broker', () => {
  beforeAll(async () => {
    await api.request('POST', '/definitions', forThisRun(committed));
  });

  afterAll(async () => {
    await api.deleteVhost(vhost).catch(() => undefined);
    for (const u of [...SERVICES, CONSOLE_USER])
      await api.request('DELETE', `/users/${enc(`${userPrefix}${u}`)}`).catch(() => undefined);
  });

  it('is accepted, and creates exactly the policies, queues, exchanges and bindings it lists', async () => {
    const expected = forThisRun(committed);
    expect(await brokerObjects()).toEqual({
      policies: expected.policies.map((p) => [p.name, p.pattern, p.definition, p.priority]).sort(),
      queues: expected.queues.map((q) => [q.name, q.durable, q.arguments]).sort(),
      exchanges: expected.exchanges.map((e) => [e.name, e.type, e.durable]).sort(),
      bindings: expected.bindings.map((b) => [b.source, b.destination, b.routing_key]).sort(),
    });
  });

  it("lets each service user log in with its password (start.sh's hashes are RabbitMQ's sha256 hashes)", async () => {
    for (const s of SERVICES) {
      const connection = await amqp.connect(amqpUrl(`${userPrefix}${s}`, passwords[s]!));
      await connection.close();
    }
    await expect(amqp.connect(amqpUrl(`${userPrefix}orders`, 'not-the-password'))).rejects.toThrow();
  });

  it("lets the console's account read the vhost's queue statistics on the management API", async () => {
    const console_ = new RabbitManagement({
      managementUrl: env.admin.managementUrl,
      user: `${userPrefix}${CONSOLE_USER}`,
      password: passwords[CONSOLE_USER]!,
    });
    const listed = (await console_.request('GET', `/queues/${enc(vhost)}?columns=name`)) as { name: string }[];
    expect(listed.map((q) => q.name).sort()).toEqual(committed.queues.map((q) => q.name).sort());
    // Its write permission, `^$`, matches the empty string, but the broker checks a publish to the default exchange
    // (named '' on the wire) as `amq.default`: refused, like every other publish.
    const connection = await amqp.connect(amqpUrl(`${userPrefix}${CONSOLE_USER}`, passwords[CONSOLE_USER]!));
    connection.on('error', () => undefined);
    try {
      const channel = await connection.createConfirmChannel();
      const refused = new Promise<string>((resolve) => channel.once('error', (e: Error) => resolve(e.message)));
      channel.publish('', committed.queues[0]!.name, Buffer.from('x'));
      await channel.waitForConfirms().catch(() => undefined);
      expect(await refused).toMatch(/ACCESS_REFUSED.*amq\.default/);
    } finally {
      await connection.close().catch(() => undefined);
    }
  });

  it('gives a service user no configure permission: it cannot declare a queue of its own', async () => {
    const connection = await amqp.connect(amqpUrl(`${userPrefix}orders`, passwords.orders!));
    connection.on('error', () => undefined);
    try {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      await expect(channel.assertQueue(`not-in-the-topology-${env.runId}`, { durable: true })).rejects.toThrow(
        /ACCESS_REFUSED|403/,
      );
    } finally {
      await connection.close().catch(() => undefined);
    }
  });

  it('is what the provisioner builds: running it over the imported vhost changes nothing and fails nowhere', async () => {
    const before = await brokerObjects();
    // The provisioner also sets the machine's service users' passwords (users are global): to this machine's own.
    const passwords = Object.fromEntries(SERVICES.map((s) => [s, nativePassword('rabbitmq', s)])) as Record<
      ServiceName,
      string
    >;
    await provisionRabbit(env.admin, { vhost, passwords });
    expect(await brokerObjects()).toEqual(before);
    expect(committed.vhosts.map((v) => v.name)).toEqual([VHOST]);
  });
});
