import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ReleaseInventory, ReserveInventory, type Envelope } from '@am/contracts';
import { Exchanges, SAGA_REPLY_KEY, handleMessage, type MessageContext } from '@am/messaging';
import { createServiceDataSource, migrate } from '@am/persistence';
import { testEnv } from '@am/testing';
import { migrations } from '../migrations/index.js';
import { inventoryReleaseSubscription } from '../release-stock/inventory-release.subscription.js';
import { ReleaseStockHandler } from '../release-stock/release-stock.handler.js';
import { inventoryReserveSubscription } from '../reserve-stock/inventory-reserve.subscription.js';
import { ReserveStockHandler } from '../reserve-stock/reserve-stock.handler.js';

// Real PostgreSQL (this run's inventory database), through the library's `handleMessage` with the service's
// own subscriptions: inbox, handler and outbox in one transaction, exactly as the RabbitMQ transport runs
// them. No broker is needed for this.
let db: DataSource;
const reserveHandler = new ReserveStockHandler();
const releaseHandler = new ReleaseStockHandler();

beforeAll(async () => {
  db = createServiceDataSource({ url: testEnv().databaseUrl('inventory'), migrations, poolSize: 20 });
  await db.initialize();
  await migrate(db);
});

afterAll(async () => {
  await db?.destroy();
});

beforeEach(async () => {
  await db.query('TRUNCATE stock, reservation_items, reservations, outbox, processed_messages');
});

type Item = { sku: string; quantity: number };
const reserveCommand = (orderId: string, items: Item[], sagaId = randomUUID()) =>
  ReserveInventory.create(
    { sagaId, orderId, items: items.map((i) => ({ ...i, unitPrice: 100 })) },
    { correlationId: orderId },
  );
const releaseCommand = (orderId: string, sagaId = randomUUID()) =>
  ReleaseInventory.create({ sagaId, orderId }, { correlationId: orderId });

/** Delivers a command the way the transport does; false means the inbox found it was handled before. */
function deliver(command: ReserveInventory | ReleaseInventory): Promise<boolean> {
  const { subscription, catalog } =
    command.type === ReserveInventory.type ? inventoryReserveSubscription : inventoryReleaseSubscription;
  return handleMessage(
    {
      dataSource: db,
      consumer: subscription.queue,
      catalog,
      findHandler: (type) =>
        type === ReserveInventory.type
          ? (m: Envelope, ctx: MessageContext) => reserveHandler.handle(m as ReserveInventory, ctx)
          : type === ReleaseInventory.type
            ? (m: Envelope, ctx: MessageContext) => releaseHandler.handle(m as ReleaseInventory, ctx)
            : undefined,
    },
    Buffer.from(JSON.stringify(command)),
  );
}

async function setStock(sku: string, available: number): Promise<void> {
  await db.query('INSERT INTO stock (sku, available, reserved) VALUES ($1, $2, 0)', [sku, available]);
}

async function stockOf(sku: string): Promise<{ available: number; reserved: number }> {
  const [row] = await db.query<{ available: number; reserved: number }[]>(
    'SELECT available, reserved FROM stock WHERE sku = $1',
    [sku],
  );
  return row!;
}

async function statusOf(orderId: string): Promise<string | undefined> {
  const [row] = await db.query<{ status: string }[]>('SELECT status FROM reservations WHERE order_id = $1', [orderId]);
  return row?.status;
}

interface Reply {
  exchange: string;
  routingKey: string;
  payload: { type: string; causationId: string; data: { orderId: string; reason?: string; shortSkus?: string[] } };
}

async function replies(orderId?: string): Promise<Reply[]> {
  return db.query<Reply[]>(
    `SELECT destination AS "exchange", routing_key AS "routingKey", payload FROM outbox
      WHERE $1::uuid IS NULL OR payload -> 'data' ->> 'orderId' = $1::text ORDER BY id`,
    [orderId ?? null],
  );
}

describe('reserve stock against real PostgreSQL', () => {
  it('reserves all items, and replies inventory.reserved to the saga through the outbox', async () => {
    await setStock('A', 5);
    await setStock('B', 2);
    const orderId = randomUUID();
    const command = reserveCommand(orderId, [
      { sku: 'A', quantity: 2 },
      { sku: 'B', quantity: 2 },
      { sku: 'A', quantity: 1 },
    ]);
    expect(await deliver(command)).toBe(true);
    expect(await stockOf('A')).toEqual({ available: 2, reserved: 3 });
    expect(await stockOf('B')).toEqual({ available: 0, reserved: 2 });
    expect(await statusOf(orderId)).toBe('RESERVED');
    expect(
      await db.query('SELECT sku, quantity FROM reservation_items WHERE order_id = $1 ORDER BY sku', [orderId]),
    ).toEqual([
      { sku: 'A', quantity: 3 },
      { sku: 'B', quantity: 2 },
    ]);
    expect(await replies(orderId)).toEqual([
      {
        exchange: Exchanges.sagaReplies,
        routingKey: SAGA_REPLY_KEY,
        payload: expect.objectContaining({
          type: 'inventory.reserved',
          causationId: command.messageId,
          correlationId: orderId,
          data: { sagaId: command.data.sagaId, orderId },
        }),
      },
    ]);
  });

  it('reserves nothing when one SKU is short or unknown, and names those SKUs', async () => {
    await setStock('A', 5);
    await setStock('B', 1);
    const orderId = randomUUID();
    await deliver(
      reserveCommand(orderId, [
        { sku: 'A', quantity: 1 },
        { sku: 'B', quantity: 2 },
        { sku: 'NOPE', quantity: 1 },
      ]),
    );
    expect(await stockOf('A')).toEqual({ available: 5, reserved: 0 });
    expect(await stockOf('B')).toEqual({ available: 1, reserved: 0 });
    expect(await statusOf(orderId)).toBe('REJECTED');
    const [reply] = await replies(orderId);
    expect(reply!.payload).toMatchObject({
      type: 'inventory.reservation-failed',
      data: { orderId, reason: 'out_of_stock', shortSkus: ['B', 'NOPE'] },
    });
  });

  it('never oversells: 200 orders racing for the last 100 units get exactly 100 reservations', async () => {
    await setStock('LAST', 100);
    const orders = Array.from({ length: 200 }, () => randomUUID());
    const results = await Promise.all(orders.map((id) => deliver(reserveCommand(id, [{ sku: 'LAST', quantity: 1 }]))));
    expect(results.every(Boolean)).toBe(true);
    expect(await stockOf('LAST')).toEqual({ available: 0, reserved: 100 });
    expect(
      await db.query('SELECT status, count(*)::int AS n FROM reservations GROUP BY status ORDER BY status'),
    ).toEqual([
      { status: 'REJECTED', n: 100 },
      { status: 'RESERVED', n: 100 },
    ]);
    const types = (await replies()).map((r) => r.payload.type);
    expect(types.filter((t) => t === 'inventory.reserved')).toHaveLength(100);
    expect(types.filter((t) => t === 'inventory.reservation-failed')).toHaveLength(100);
  });

  it('does not deadlock when orders name the same SKUs in opposite orders', async () => {
    await setStock('X', 30);
    await setStock('Y', 30);
    const items = (i: number) =>
      i % 2 === 0
        ? [
            { sku: 'X', quantity: 1 },
            { sku: 'Y', quantity: 1 },
          ]
        : [
            { sku: 'Y', quantity: 1 },
            { sku: 'X', quantity: 1 },
          ];
    const settled = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) => deliver(reserveCommand(randomUUID(), items(i)))),
    );
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    expect(await stockOf('X')).toEqual({ available: 0, reserved: 30 });
    expect(await stockOf('Y')).toEqual({ available: 0, reserved: 30 });
  });

  it('reserves once for a duplicated command (same order, new message ids), also when the copies race', async () => {
    await setStock('A', 10);
    const orderId = randomUUID();
    const sagaId = randomUUID();
    const copies = Array.from({ length: 5 }, () => reserveCommand(orderId, [{ sku: 'A', quantity: 4 }], sagaId));
    expect(await Promise.all(copies.map(deliver))).toEqual([true, true, true, true, true]);
    expect(await deliver(copies[0]!)).toBe(false); // a redelivery of one copy: the inbox stops it
    expect(await stockOf('A')).toEqual({ available: 6, reserved: 4 });
    const answers = await replies(orderId);
    expect(answers.map((r) => r.payload.type)).toEqual(Array(5).fill('inventory.reserved'));
  });

  it('answers out of stock again for a rejected order, even when stock has arrived since', async () => {
    await setStock('A', 0);
    const orderId = randomUUID();
    await deliver(reserveCommand(orderId, [{ sku: 'A', quantity: 1 }]));
    await db.query('UPDATE stock SET available = 10');
    await deliver(reserveCommand(orderId, [{ sku: 'A', quantity: 1 }]));
    expect(await stockOf('A')).toEqual({ available: 10, reserved: 0 });
    expect((await replies(orderId)).map((r) => r.payload.data.reason)).toEqual(['out_of_stock', 'out_of_stock']);
  });
});

describe('release stock (compensation) against real PostgreSQL', () => {
  it('gives the items back once, however often it is released', async () => {
    await setStock('A', 10);
    const orderId = randomUUID();
    await deliver(reserveCommand(orderId, [{ sku: 'A', quantity: 3 }]));
    expect(await stockOf('A')).toEqual({ available: 7, reserved: 3 });
    await deliver(releaseCommand(orderId));
    await deliver(releaseCommand(orderId));
    expect(await stockOf('A')).toEqual({ available: 10, reserved: 0 });
    expect(await statusOf(orderId)).toBe('RELEASED');
    // A compensation sends no reply: only the reserve's answer is in the outbox.
    expect((await replies(orderId)).map((r) => r.payload.type)).toEqual(['inventory.reserved']);
  });

  it('refuses a reserve that arrives after its release', async () => {
    await setStock('A', 10);
    const orderId = randomUUID();
    await deliver(reserveCommand(orderId, [{ sku: 'A', quantity: 3 }]));
    await deliver(releaseCommand(orderId));
    await deliver(reserveCommand(orderId, [{ sku: 'A', quantity: 3 }]));
    expect(await stockOf('A')).toEqual({ available: 10, reserved: 0 });
    const last = (await replies(orderId)).at(-1)!;
    expect(last.payload).toMatchObject({ type: 'inventory.reservation-failed', data: { reason: 'released' } });
  });

  it('leaves a tombstone when the release overtakes its reserve, so the late reserve takes nothing', async () => {
    await setStock('A', 10);
    const orderId = randomUUID();
    await deliver(releaseCommand(orderId));
    expect(await statusOf(orderId)).toBe('RELEASED');
    await deliver(reserveCommand(orderId, [{ sku: 'A', quantity: 3 }]));
    expect(await stockOf('A')).toEqual({ available: 10, reserved: 0 });
    expect((await replies(orderId)).map((r) => [r.payload.type, r.payload.data.reason])).toEqual([
      ['inventory.reservation-failed', 'released'],
    ]);
  });

  it('does nothing for a rejected order: it holds no stock', async () => {
    await setStock('A', 1);
    const orderId = randomUUID();
    await deliver(reserveCommand(orderId, [{ sku: 'A', quantity: 2 }]));
    await deliver(releaseCommand(orderId));
    expect(await stockOf('A')).toEqual({ available: 1, reserved: 0 });
    expect(await statusOf(orderId)).toBe('REJECTED');
  });

  it('returns all stock when every reserve races its own release, whichever wins', async () => {
    await setStock('A', 50);
    const orders = Array.from({ length: 50 }, () => randomUUID());
    const settled = await Promise.allSettled(
      orders.flatMap((id) => [deliver(reserveCommand(id, [{ sku: 'A', quantity: 1 }])), deliver(releaseCommand(id))]),
    );
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    expect(await stockOf('A')).toEqual({ available: 50, reserved: 0 });
    expect(await db.query(`SELECT count(*)::int AS n FROM reservations WHERE status <> 'RELEASED'`)).toEqual([
      { n: 0 },
    ]);
  });
});
