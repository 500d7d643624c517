import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AccountOpened,
  MoneyDeposited,
  OrderCancelled,
  OrderConfirmed,
  OrderCreated,
  type AccountEventMessage,
  type OrderEvent,
} from '@am/contracts';
import { KafkaClient, Topics, recordFor, type ResetPreview } from '@am/messaging';
import {
  ServiceProcess,
  freePort,
  http,
  isolatedWorld,
  serviceEnv,
  testEnv,
  tokenFor,
  waitFor,
  type IsolatedWorld,
} from '@am/testing';

// The operator's offset reset against real Kafka and PostgreSQL, on the services' own Kafka principals: a preview
// counts exactly the records produced; a reset while the group has a member is refused (409) and moves nothing; once
// the service's consumers are stopped (its process stopped, an API-only process serving the route), a reset to
// earliest makes the group read exactly those records again on restart: the idempotent consumer (audit, positions in
// Kafka) changes nothing, the read models (analytics, positions in its database) are rebuilt, not doubled. And the
// analytics rebuild started over HTTP reports its progress to done, with totals equal to the live read model.
const env = testEnv();
const processes: ServiceProcess[] = [];
const clients: KafkaClient[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await Promise.all(clients.map((c) => c.close()));
});

/** A service of `world` as a process: consuming, or (`consumers: false`) serving its routes only. */
async function start(service: 'audit' | 'analytics', world: IsolatedWorld, consumers = true): Promise<ServiceProcess> {
  const extra = { ...world.env, ...(consumers ? {} : { SERVICE_CONSUMERS: 'off' }) };
  const process = new ServiceProcess(service, await freePort(), serviceEnv(service, env, extra));
  processes.push(process);
  return process.start(60_000);
}

/** The admin's client on `world`'s topics, to produce and to read what the broker says. */
async function adminOn(world: IsolatedWorld): Promise<KafkaClient> {
  const client = new KafkaClient({
    brokers: [env.kafkaBrokers],
    clientId: 'offset-reset.e2e',
    credentials: env.kafkaAdmin,
    prefix: world.kafkaPrefix,
  });
  clients.push(client);
  await client.connectProducer();
  return client;
}

/** A query on `world`'s own database. */
async function sql<T>(world: IsolatedWorld, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: world.databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Kafka's committed offsets of `group` on `topic`, partition → offset (-1: none). */
async function committed(kafka: KafkaClient, group: string, topic: string): Promise<Record<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId: kafka.name(group), topics: [kafka.name(topic)] });
    return Object.fromEntries((offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** A counter of the process's /metrics for one source (`messages_duplicates_total`, `messages_consumed_total`). */
async function counter(process: ServiceProcess, name: string, source: string): Promise<number> {
  const text = await (await fetch(`${process.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`source="${source}"`));
  return Number(line?.split(' ').at(-1) ?? 0);
}

const preview = (process: ServiceProcess, group: string, to: string) =>
  http<ResetPreview & { reason?: string }>(
    'GET',
    `${process.url}/consumer-groups/${group}/reset-preview?to=${encodeURIComponent(to)}`,
  );
const reset = (process: ServiceProcess, group: string, body: unknown) =>
  http<ResetPreview & { reason?: string; by?: string; kafkaHint?: string; message?: string[] }>(
    'POST',
    `${process.url}/consumer-groups/${group}/reset`,
    body,
  );

/** Order events: `count` orders created, two thirds of them then confirmed or cancelled. */
function orderStories(count: number): { events: OrderEvent[]; confirmed: number; cancelled: number; revenue: number } {
  const events: OrderEvent[] = [];
  let [confirmed, cancelled, revenue] = [0, 0, 0];
  for (let i = 0; i < count; i++) {
    const orderId = randomUUID();
    const data = { orderId, userId: `user-${i % 5}`, total: 100 + i };
    events.push(
      OrderCreated.create(
        { ...data, items: [{ sku: 'S', quantity: 1, unitPrice: 100 + i }] },
        { correlationId: orderId },
      ),
    );
    if (i % 3 === 1) {
      events.push(OrderConfirmed.create(data, { correlationId: orderId }));
      confirmed += 1;
      revenue += data.total;
    } else if (i % 3 === 2) {
      events.push(OrderCancelled.create({ ...data, reason: 'out_of_stock' }, { correlationId: orderId }));
      cancelled += 1;
    }
  }
  return { events, confirmed, cancelled, revenue };
}

async function produceOrders(kafka: KafkaClient, events: readonly OrderEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    await kafka.send(events.slice(i, i + 500).map((e) => recordFor(Topics.orderEvents, e.data.orderId, e)));
  }
}

describe('offset reset of an idempotent consumer: audit, its positions in Kafka', () => {
  it('previews N, refuses while the group runs, resets once it is stopped, and the group reads exactly N again with no second effect', async () => {
    const world = await isolatedWorld('audit', 'offset_audit');
    const kafka = await adminOn(world);
    let audit = await start('audit', world);

    // 20 records, a time between, 10 more: a reset to that time re-reads exactly the 10.
    const before = orderStories(20).events.filter((e) => e.type === 'order.created');
    await produceOrders(kafka, before);
    await sleep(50);
    const between = new Date();
    await sleep(50);
    const after = orderStories(10).events.filter((e) => e.type === 'order.created');
    await produceOrders(kafka, after);
    const ids = [...before, ...after].map((e) => e.messageId);
    const recorded = async () =>
      (
        await sql<{ n: number }>(world, 'SELECT count(*)::int AS n FROM audit_log WHERE message_id = ANY($1)', [ids])
      )[0]!.n;
    await waitFor('audit to record the 30 order events', async () => (await recorded()) === 30, { timeoutMs: 60_000 });
    await waitFor('the group to commit every offset', async () => {
      const offsets = await committed(kafka, 'audit', Topics.orderEvents);
      return Object.values(offsets).reduce((a, b) => a + b, 0) === 30;
    });

    // Running: the preview counts, and says the reset would be refused; the reset is refused and moves nothing.
    const running = await preview(audit, 'audit', 'earliest');
    expect(running.status).toBe(200);
    expect(running.body).toMatchObject({ group: 'audit', positions: 'kafka', kind: 'idempotent', stopped: false });
    expect(running.body.reRead).toBe(30);
    expect(running.body.summary).toBe('30 records will be re-read');
    expect(running.body.refusal).toMatch(/not stopped: Kafka says Stable with 1 member/);
    const offsetsBefore = await committed(kafka, 'audit', Topics.orderEvents);
    const refused = await reset(audit, 'audit', { to: 'earliest' });
    expect(refused.status).toBe(409);
    expect(refused.body.reason).toMatch(/not stopped/);
    expect(await committed(kafka, 'audit', Topics.orderEvents)).toEqual(offsetsBefore);

    // Stopped: the group has no member; an API-only process of audit serves the routes.
    await audit.stop();
    const api = await start('audit', world, false);
    const stopped = await preview(api, 'audit', 'earliest');
    expect(stopped.body).toMatchObject({
      stopped: true,
      state: 'Empty',
      members: 0,
      reRead: 30,
      skip: 0,
      mode: 'move',
    });
    expect(stopped.body.refusal).toBeUndefined();
    const mainPartitions = stopped.body.partitions.filter((p) => p.topic === Topics.orderEvents);
    expect(mainPartitions).toHaveLength(3);
    for (const p of mainPartitions) {
      expect(p.stored).toBe(offsetsBefore[p.partition]);
      expect(p.reRead).toBe(p.stored! - p.low);
      expect(p.target).toBe(p.low);
    }
    expect((await preview(api, 'audit', between.toISOString())).body.reRead).toBe(10);
    expect((await preview(api, 'audit', 'latest')).body).toMatchObject({ reRead: 0, skip: 0, mode: 'none' });

    // Bad input and the wrong caller change nothing.
    expect((await reset(api, 'audit', { to: 'yesterday' })).status).toBe(400);
    expect((await reset(api, 'audit', { to: 'earliest', also: 1 })).status).toBe(400);
    expect((await reset(api, 'audit', {})).status).toBe(400);
    expect((await preview(api, 'audit', '2026-02-30T00:00:00Z')).status).toBe(400);
    expect((await preview(api, 'no-such-group', 'earliest')).status).toBe(404);
    const customer = await tokenFor({ role: 'customer', subject: randomUUID(), email: 'c@example.com' });
    const asCustomer = await http(
      'POST',
      `${api.url}/consumer-groups/audit/reset`,
      { to: 'earliest' },
      {
        authorization: `Bearer ${customer}`,
      },
    );
    expect(asCustomer.status).toBe(403);
    expect(await committed(kafka, 'audit', Topics.orderEvents)).toEqual(offsetsBefore);

    const done = await reset(api, 'audit', { to: 'earliest' });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ group: 'audit', by: 'tests', reRead: 30, to: 'earliest' });
    expect(Object.values(await committed(kafka, 'audit', Topics.orderEvents))).toEqual([0, 0, 0]);
    expect((await preview(api, 'audit', 'earliest')).body.reRead).toBe(0);
    await api.stop();

    // Restarted: the group reads the 30 again, and the inbox turns each into a no-op.
    audit = await start('audit', world);
    await waitFor(
      'the group to read the 30 records again',
      async () => (await audit.consumed(Topics.orderEvents)) >= 30,
      {
        timeoutMs: 60_000,
      },
    );
    await sleep(1_500);
    expect(await audit.consumed(Topics.orderEvents)).toBe(30);
    expect(await counter(audit, 'messages_duplicates_total', Topics.orderEvents)).toBe(30);
    expect(await recorded()).toBe(30);
  }, 240_000);
});

describe('offset reset of read models: analytics, positions in its database; and the rebuild from offset 0', () => {
  let world: IsolatedWorld;
  let kafka: KafkaClient;
  let analytics: ServiceProcess;
  const stories = orderStories(1_500);
  const orders = 1_500;
  const records = stories.events.length;
  const accounts = Array.from({ length: 4 }, () => randomUUID());
  const accountEvents: AccountEventMessage[] = accounts.flatMap((accountId, i) => [
    AccountOpened.create({ accountId, name: `A${i}` }, { correlationId: accountId }),
    ...[100, 250, 40].map((amount) =>
      MoneyDeposited.create({ accountId, amount: amount * (i + 1) }, { correlationId: accountId }),
    ),
  ]);
  const deposited = accounts.reduce((n, _a, i) => n + 390 * (i + 1), 0);

  const summary = async () => {
    const { ordersCreated, ordersConfirmed, ordersCancelled, revenue } = (
      await http<typeof expected>('GET', `${analytics.url}/analytics/summary`)
    ).body;
    return { ordersCreated, ordersConfirmed, ordersCancelled, revenue };
  };
  const activity = async () =>
    (
      await http<{ accounts: number; deposits: number; deposited: number }>(
        'GET',
        `${analytics.url}/analytics/accounts`,
      )
    ).body;
  const expected = {
    ordersCreated: orders,
    ordersConfirmed: stories.confirmed,
    ordersCancelled: stories.cancelled,
    revenue: stories.revenue,
  };
  const positions = async (group: string) =>
    sql<{ topic: string; partition: number; next_offset: string }>(
      world,
      'SELECT topic, partition, next_offset FROM consumer_offsets WHERE group_id = $1 ORDER BY topic, partition',
      [`${world.kafkaPrefix}${group}`],
    );

  it('previews, refuses while the group runs or where a read model cannot go, and a reset to earliest rebuilds the models, not doubled', async () => {
    world = await isolatedWorld('analytics', 'offset_analytics');
    kafka = await adminOn(world);
    analytics = await start('analytics', world);
    const half = Math.floor(stories.events.length / 2);
    await produceOrders(kafka, stories.events.slice(0, half));
    await sleep(50);
    const between = new Date();
    await sleep(50);
    await produceOrders(kafka, stories.events.slice(half));
    await kafka.send(accountEvents.map((e) => recordFor(Topics.accountEvents, e.data.accountId, e)));
    await waitFor(
      'analytics to count every order and outcome',
      async () => JSON.stringify(await summary()) === JSON.stringify(expected),
      {
        timeoutMs: 90_000,
      },
    );
    await waitFor('analytics to count every deposit', async () => (await activity()).deposits === 12, {
      timeoutMs: 60_000,
    });
    await waitFor(
      'the exactly-once loop to commit every offset',
      async () => (await preview(analytics, 'order-metrics', 'earliest')).body.reRead === records,
      {
        timeoutMs: 60_000,
      },
    );

    // Running: counted from the database's positions, refused, nothing moves.
    const running = await preview(analytics, 'analytics', 'earliest');
    expect(running.body).toMatchObject({ positions: 'database', kind: 'read-model', mode: 'rebuild', stopped: false });
    expect(running.body.reRead).toBe(records);
    expect(running.body.refusal).toMatch(/not stopped/);
    expect(running.body.meaning).toMatch(/order_stats\) is emptied with its positions in one transaction/);
    const stored = await positions('analytics');
    expect((await reset(analytics, 'analytics', { to: 'earliest' })).status).toBe(409);
    expect(await positions('analytics')).toEqual(stored);
    expect(await summary()).toEqual(expected);

    // Where the kind of group forbids it, whatever its state: the loop back at all (its sums would double).
    const metrics = await preview(analytics, 'order-metrics', 'earliest');
    expect(metrics.body).toMatchObject({ kind: 'no-rewind', reRead: records });
    expect(metrics.body.refusal).toMatch(/never moves back/);
    expect((await reset(analytics, 'order-metrics', { to: 'earliest' })).status).toBe(409);

    // Stopped: the consumers' process gone, an API-only one serves the routes.
    await analytics.stop();
    analytics = await start('analytics', world, false);
    const stopped = await preview(analytics, 'analytics', 'earliest');
    expect(stopped.body).toMatchObject({ stopped: true, mode: 'rebuild', reRead: records });
    expect(stopped.body.refusal).toBeUndefined();
    // A read model goes back only to the start: to a time within the log it is refused, even stopped.
    const middle = await preview(analytics, 'analytics', between.toISOString());
    expect(middle.body.reRead).toBe(records - half);
    expect(middle.body.refusal).toMatch(/cannot take back part of what it counted/);
    const refused = await reset(analytics, 'analytics', { to: between.toISOString() });
    expect(refused.status).toBe(409);
    expect(await positions('analytics')).toEqual(stored);

    const rebuilt = await reset(analytics, 'analytics', { to: 'earliest' });
    expect(rebuilt.status).toBe(200);
    expect(rebuilt.body).toMatchObject({ mode: 'rebuild', reRead: records, kafkaHint: 'moved' });
    const [rows] = await sql<{ n: number }>(world, 'SELECT count(*)::int AS n FROM order_stats');
    expect(rows!.n).toBe(0);
    const restarted = await positions('analytics');
    expect(restarted.length).toBe(6);
    expect(restarted.every((p) => p.next_offset === '0')).toBe(true);
    expect(Object.values(await committed(kafka, 'analytics', Topics.orderEvents))).toEqual([0, 0, 0]);

    const accountsReset = await reset(analytics, 'analytics-accounts', { to: 'earliest' });
    expect(accountsReset.status).toBe(200);
    expect(accountsReset.body.reRead).toBe(accountEvents.length);
    const [claims] = await sql<{ n: number }>(
      world,
      "SELECT count(*)::int AS n FROM processed_messages WHERE consumer = 'analytics-accounts'",
    );
    expect(claims!.n).toBe(0);
    await analytics.stop();

    // Restarted: each group reads its records once more, and the models are what the log says, not doubled.
    analytics = await start('analytics', world);
    await waitFor(
      'the group to read every order event again',
      async () => (await analytics.consumed(Topics.orderEvents)) >= records,
      {
        timeoutMs: 90_000,
      },
    );
    await waitFor(
      'the account events to be read again',
      async () => (await analytics.consumed(Topics.accountEvents)) >= accountEvents.length,
    );
    await sleep(1_500);
    expect(await analytics.consumed(Topics.orderEvents)).toBe(records);
    expect(await analytics.consumed(Topics.accountEvents)).toBe(accountEvents.length);
    expect(await summary()).toEqual(expected);
    expect(await activity()).toMatchObject({ accounts: 4, deposits: 12, deposited });
  }, 240_000);

  it('rebuilds the order statistics from offset 0 over HTTP, one at a time, with its progress, to totals equal to the live read model', async () => {
    // Spoil the live table: the rebuild must find and repair what the log says.
    await sql(world, "UPDATE order_stats SET status = 'CREATED'");
    const started = await http<{ phase: string; by: string }>('POST', `${analytics.url}/analytics/rebuild`, {});
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ phase: 'replaying', by: 'tests' });
    const second = await http<{ reason: string }>('POST', `${analytics.url}/analytics/rebuild`, {});
    expect(second.status).toBe(409);
    expect(second.body.reason).toMatch(/running/);
    expect((await http('POST', `${analytics.url}/analytics/rebuild`, { table: 'x' })).status).toBe(400);

    const seen: { phase: string; percent: number }[] = [];
    const done = await waitFor(
      'the rebuild to end',
      async () => {
        const state = await http<{
          phase: string;
          percent: number;
          partitions: { partition: number; low: number; position: number; high: number }[];
          result?: { live: unknown; rebuilt: typeof expected; ordersDiffering: number; equal: boolean; events: number };
        }>('GET', `${analytics.url}/analytics/rebuild`);
        seen.push({ phase: state.body.phase, percent: state.body.percent });
        return state.body.phase === 'done' || state.body.phase === 'failed' ? state.body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(done.phase).toBe('done');
    expect(done.percent).toBe(100);
    expect(seen.some((s) => s.phase === 'replaying')).toBe(true);
    const percents = seen.map((s) => s.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(done.partitions).toHaveLength(3);
    for (const p of done.partitions) expect(p.position).toBeGreaterThanOrEqual(p.high);
    expect(done.partitions.reduce((n, p) => n + p.high - p.low, 0)).toBe(records);
    expect(done.result!.events).toBe(records);
    expect(done.result!.rebuilt).toEqual(expected);
    expect(done.result!.ordersDiffering).toBe(stories.confirmed + stories.cancelled);
    expect(done.result!.equal).toBe(false);
    expect(await summary()).toEqual(done.result!.rebuilt);

    // Again, on a model that already is what the log says: nothing differs.
    expect((await http('POST', `${analytics.url}/analytics/rebuild`, {})).status).toBe(202);
    const again = await waitFor('the second rebuild to end', async () => {
      const state = await http<{ phase: string; result?: { equal: boolean; rebuilt: unknown } }>(
        'GET',
        `${analytics.url}/analytics/rebuild`,
      );
      return state.body.phase === 'done' ? state.body : undefined;
    });
    expect(again.result).toMatchObject({ equal: true, rebuilt: expected });
  }, 240_000);
});
