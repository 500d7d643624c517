import { randomUUID } from 'node:crypto';
import type { Channel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReleaseInventory, ReserveInventory } from '@am/contracts';
import { AmqpClient, Exchanges, Queues } from '@am/messaging';
import { http, startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';

// The inventory service as a real process (built code from dist), in this run's vhost and database.
let inventory: ServiceProcess;
let amqp: AmqpClient;
let channel: Channel;
const url = (path: string) => `${inventory.url}${path}`;
const sku = () => `SKU-${randomUUID().slice(0, 8)}`;

interface StockLevel {
  sku: string;
  available: number;
  reserved: number;
}

beforeAll(async () => {
  ({ inventory } = (await startServices(['inventory'])) as { inventory: ServiceProcess });
  amqp = new AmqpClient({ url: testEnv().adminAmqpUrl, connectionName: 'inventory.e2e.spec' });
  await amqp.connect();
  channel = await amqp.createChannel();
  await channel.purgeQueue(Queues.sagaReplies);
});

afterAll(async () => {
  await channel?.close().catch(() => undefined);
  await amqp?.close();
  await inventory?.stop();
});

describe('stock over HTTP', () => {
  it('sets the available quantity with PUT and reads it back with GET', async () => {
    const id = sku();
    const created = await http<StockLevel>('PUT', url(`/stock/${id}`), { quantity: 7 });
    expect(created).toMatchObject({ status: 200, body: { sku: id, available: 7, reserved: 0 } });
    expect((await http<StockLevel>('GET', url(`/stock/${id}`))).body).toEqual({ sku: id, available: 7, reserved: 0 });
    const changed = await http<StockLevel>('PUT', url(`/stock/${id}`), { quantity: 0 });
    expect(changed).toMatchObject({ status: 200, body: { sku: id, available: 0, reserved: 0 } });
  });

  it('answers 404 for a SKU it has never heard of', async () => {
    const id = sku();
    const got = await http<{ message: string }>('GET', url(`/stock/${id}`));
    expect(got.status).toBe(404);
    expect(got.body.message).toContain(id);
  });

  it.each([
    ['a negative quantity', { quantity: -1 }, 'quantity'],
    ['a fractional quantity', { quantity: 1.5 }, 'quantity'],
    ['a quantity in a string', { quantity: '5' }, 'quantity'],
    ['an unknown field', { quantity: 5, location: 'shelf 3' }, '"location"'],
    ['an empty body', {}, 'quantity'],
    ['no body at all', undefined, 'body'],
  ])('refuses %s with 400 naming the problem, and changes nothing', async (_case, body, named) => {
    const id = sku();
    await http('PUT', url(`/stock/${id}`), { quantity: 3 });
    const bad = await http<{ message: string[] }>('PUT', url(`/stock/${id}`), body);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toEqual(expect.arrayContaining([expect.stringContaining(named)]));
    expect((await http<StockLevel>('GET', url(`/stock/${id}`))).body).toEqual({ sku: id, available: 3, reserved: 0 });
  });

  it('refuses a body that is not JSON, and a SKU longer than 64 characters', async () => {
    const id = sku();
    const notJson = await http('PUT', url(`/stock/${id}`), '{"quantity":', { 'content-type': 'application/json' });
    expect(notJson.status).toBe(400);
    expect((await http('GET', url(`/stock/${id}`))).status).toBe(404);
    const long = 'S'.repeat(65);
    const tooLong = await http<{ message: string[] }>('PUT', url(`/stock/${long}`), { quantity: 1 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.message).toEqual([expect.stringContaining('64')]);
    expect((await http('GET', url(`/stock/${'S'.repeat(64)}`))).status).toBe(404);
  });
});

describe('the saga commands over RabbitMQ', () => {
  /** Waits for the reply about `orderId` on the orchestrator's queue (nobody else consumes it in this test). */
  async function replyFor(orderId: string): Promise<{ type: string; data: Record<string, unknown> }> {
    return waitFor(`a saga reply for order ${orderId}`, async () => {
      const message = await channel.get(Queues.sagaReplies, { noAck: false });
      if (!message) return undefined;
      channel.ack(message);
      const reply = JSON.parse(message.content.toString()) as { type: string; data: Record<string, unknown> };
      return reply.data.orderId === orderId ? reply : undefined;
    });
  }
  const levelOf = async (id: string) => (await http<StockLevel>('GET', url(`/stock/${id}`))).body;

  it('reserves on inventory.reserve, replies to the saga, and gives the stock back on inventory.release', async () => {
    const id = sku();
    await http('PUT', url(`/stock/${id}`), { quantity: 5 });
    const orderId = randomUUID();
    const sagaId = randomUUID();
    const reserve = ReserveInventory.create(
      { sagaId, orderId, items: [{ sku: id, quantity: 2, unitPrice: 100 }] },
      { correlationId: orderId },
    );
    await amqp.publish(Exchanges.sagaCommands, Queues.inventoryReserve, reserve);
    expect(await replyFor(orderId)).toMatchObject({ type: 'inventory.reserved', data: { sagaId, orderId } });
    expect(await levelOf(id)).toEqual({ sku: id, available: 3, reserved: 2 });

    await amqp.publish(
      Exchanges.sagaCommands,
      Queues.inventoryRelease,
      ReleaseInventory.create({ sagaId, orderId }, { correlationId: orderId }),
    );
    await waitFor('the release to give the stock back', async () => (await levelOf(id)).reserved === 0);
    expect(await levelOf(id)).toEqual({ sku: id, available: 5, reserved: 0 });
  });

  it('replies out_of_stock with the short SKUs and reserves nothing', async () => {
    const id = sku();
    await http('PUT', url(`/stock/${id}`), { quantity: 1 });
    const orderId = randomUUID();
    const reserve = ReserveInventory.create(
      { sagaId: randomUUID(), orderId, items: [{ sku: id, quantity: 2, unitPrice: 100 }] },
      { correlationId: orderId },
    );
    await amqp.publish(Exchanges.sagaCommands, Queues.inventoryReserve, reserve);
    expect(await replyFor(orderId)).toMatchObject({
      type: 'inventory.reservation-failed',
      data: { orderId, reason: 'out_of_stock', shortSkus: [id] },
    });
    expect(await levelOf(id)).toEqual({ sku: id, available: 1, reserved: 0 });
  });
});
