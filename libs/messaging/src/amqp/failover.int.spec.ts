import { randomUUID } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { ChannelModel } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, testEnv, waitFor } from '@am/testing';
import { silentLogger } from '../logger.js';
import { AmqpClient } from './amqp-client.js';

// Failover between the nodes of a cluster, shown against the real broker reached two ways: through a TCP relay of
// this test's own (a "node" that can be made to die) and directly. The client must move to the next node on a
// refused connection and on a lost one, and restart its consumers there.
const env = testEnv();
const broker = new URL(env.adminAmqpUrl);
const direct = { host: broker.hostname, port: Number(broker.port || 5672) };
const queue = `failover-${randomUUID()}`;
const clients: AmqpClient[] = [];

/** A node that forwards to the broker until it is killed: then its connections drop and new ones are refused. */
async function relayNode(): Promise<{ port: number; kill(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = createConnection(direct.port, direct.host);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('relay: no port');
  return {
    port: address.port,
    kill: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function client(nodes: { host: string; port: number }[], starts: string[]): AmqpClient {
  const c = new AmqpClient({ url: env.adminAmqpUrl, nodes, connectionName: 'failover.int.spec', logger: silentLogger });
  clients.push(c);
  void c.addChannelUser({
    start: async (model: ChannelModel) => {
      const channel = await model.createChannel();
      await channel.assertQueue(queue, { durable: true });
      await channel.close();
      starts.push(`${c.node.host}:${c.node.port}`);
    },
  });
  return c;
}

async function depth(c: AmqpClient): Promise<number> {
  const [found] = await c.queueDepths([queue]);
  return found?.messages ?? -1;
}

afterAll(async () => {
  const last = clients.find((c) => c.isConnected);
  const channel = await last?.createChannel();
  await channel?.deleteQueue(queue);
  await channel?.close();
  for (const c of clients) await c.close();
});

describe('an AMQP client given the nodes of a cluster', () => {
  it('skips a node that refuses connections and connects to the next', async () => {
    const dead = { host: '127.0.0.1', port: await freePort() };
    const starts: string[] = [];
    const c = client([dead, direct], starts);
    await c.connect();
    await waitFor('the client connected', async () => c.isConnected || undefined);
    expect(c.node).toEqual(direct);
    expect(starts).toEqual([`${direct.host}:${direct.port}`]);
    await c.publishRaw('', queue, Buffer.from('{}'), { messageId: randomUUID() });
  });

  it('moves to the next node when its node dies, restarts its consumers there, and publishes confirmed', async () => {
    const relay = await relayNode();
    const starts: string[] = [];
    const c = client([{ host: '127.0.0.1', port: relay.port }, direct], starts);
    await c.connect();
    await waitFor('the client connected through the relay', async () => c.isConnected || undefined);
    expect(c.node.port).toBe(relay.port);
    const before = await depth(c);
    await c.publishRaw('', queue, Buffer.from('{}'), { messageId: randomUUID() });

    await relay.kill();
    await waitFor('the client connected to the next node', async () =>
      c.isConnected && c.node.port === direct.port ? true : undefined,
    );
    expect(starts).toEqual([`127.0.0.1:${relay.port}`, `${direct.host}:${direct.port}`]);
    await c.publishRaw('', queue, Buffer.from('{}'), { messageId: randomUUID() });
    expect(await depth(c)).toBe(before + 2);
  }, 30_000);
});
