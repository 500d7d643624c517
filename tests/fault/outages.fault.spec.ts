import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderCreated, PlaceOrder, ReleaseInventory, UserRegistered } from '@am/contracts';
import {
  AmqpClient,
  DEFAULT_EXCHANGE,
  Exchanges,
  KafkaClient,
  Queues,
  SERVICES,
  Topics,
  recordFor,
  type ServiceName,
} from '@am/messaging';
import {
  awaitInvariants,
  deadLettersInQueues,
  deadLettersInStore,
  deadLettersInTopic,
  describeService,
  formatDeadLetter,
  http,
  persistently,
  pool,
  purgeRunQueues,
  portOpen,
  query,
  seed,
  settle,
  startPostgres,
  startServices,
  stopPostgres,
  testEnv,
  waitFor,
  type ServiceProcess,
} from '@am/testing';

// Fault 5: an outage is not a poison message. PostgreSQL (every service's database) is stopped for many times the
// whole retry budget while messages arrive at every consuming service. Nothing may be dead-lettered for it: the
// consumers pause (a breaker per dependency), give back what they hold, and handle everything once it returns.
// A poison message sent during the outage still goes to its dead letter queue, once, with its reason.
const env = testEnv();
// The services run with the tests' short retry delays: without the breaker, any message they take during the
// outage would use up its retries within a second and be dead-lettered.
const RETRY_DELAYS_MS = [100, 200, 400];
const retryBudgetMs = RETRY_DELAYS_MS.reduce((a, b) => a + b, 0);
const outageMs = Number(process.env.FAULT_OUTAGE_MS ?? Math.max(20_000, 20 * retryBudgetMs));
let services: Record<string, ServiceProcess>;
let amqp: AmqpClient;
let kafka: KafkaClient;

beforeAll(async () => {
  await purgeRunQueues();
  const retries = { RETRY_DELAYS_MS: RETRY_DELAYS_MS.join(',') };
  services = await startServices([...SERVICES], {
    ...Object.fromEntries(SERVICES.map((s) => [s, retries])),
    // No saga step may time out because of the outage: this test is about the consumers, not the timeouts.
    orders: { ...retries, SAGA_STEP_TIMEOUT_MS: String(outageMs * 4 + 60_000) },
  });
  amqp = new AmqpClient({ url: env.adminAmqpUrl, connectionName: 'outages.fault.spec' });
  await amqp.connect();
  kafka = new KafkaClient({
    brokers: [env.kafkaBrokers],
    clientId: 'outages.fault.spec',
    credentials: env.kafkaAdmin,
    prefix: env.kafkaPrefix,
  });
  await kafka.connectProducer();
}, 120_000);

afterAll(async () => {
  // Whatever happened above, the machine's database is running again when this file ends.
  if (!(await portOpen(5432))) await startPostgres();
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
  await amqp?.close();
  await kafka?.close();
}, 120_000);

/** The body of a service's `/health` answer (200 or 503). */
async function health(service: ServiceProcess): Promise<{ checks?: Record<string, string> }> {
  const answer = await http<{ checks?: Record<string, string>; message?: { checks?: Record<string, string> } }>(
    'GET',
    `${service.url}/health`,
  ).catch(() => undefined);
  return answer?.body?.message ?? answer?.body ?? {};
}

/** `consumer_pauses_total` of a service for one dependency, from its `/metrics`. */
async function pauses(service: ServiceProcess, dependency: string): Promise<number> {
  const text = await fetch(`${service.url}/metrics`).then((r) => r.text());
  const line = text.split('\n').find((l) => l.startsWith('consumer_pauses_total{') && l.includes(`"${dependency}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('an outage is not a poison message', () => {
  it('dead-letters nothing while the database is down, in every service that consumes, and handles everything after', async () => {
    const started = new Date();
    const byName = services as Record<ServiceName, ServiceProcess>;
    const urls = { orders: byName.orders.url, inventory: byName.inventory.url, payments: byName.payments.url };
    const pids = Object.fromEntries(Object.values(services).map((s) => [s.service, s.pid]));
    const { ledger, userIds, skuIds } = await seed(urls, 3, 1_000_000, 3, 500);

    // Orders keep coming over HTTP before, during (they fail and are retried) and after the outage.
    const load = pool(120, 3, async (i) => {
      const body = {
        userId: userIds[i % userIds.length],
        items: [{ sku: skuIds[i % skuIds.length], quantity: 1, unitPrice: 1_000 }],
      };
      const key = { 'idempotency-key': randomUUID() };
      await persistently(() => http('POST', `${urls.orders}/orders`, body, key), outageMs * 4 + 60_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    const stopping = performance.now();
    await stopPostgres();
    const stoppedAt = performance.now();

    // HTTP tells the outage apart too: a request that needs the database answers 503 with Retry-After, not 500.
    // An order with an Idempotency-Key does (the key is reserved in the database first).
    const orderBody = { userId: userIds[0], items: [{ sku: skuIds[0], quantity: 1, unitPrice: 1_000 }] };
    const during = await http('POST', `${urls.orders}/orders`, orderBody, { 'idempotency-key': randomUUID() });
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBe('5');
    // An order without one, for a user this orders process has seen, needs no database: the queue takes it (load
    // leveling), and the worker stores it once the database is back.
    const queued = await http<{ orderId: string }>('POST', `${urls.orders}/orders`, orderBody);
    expect(queued.status).toBe(202);

    // While the database is down, a message for every consuming service arrives:
    // - orders: `order.place` tasks on `order-processing` (as POST /orders sends them);
    const directOrders = Array.from({ length: 10 }, (_, i) => {
      const orderId = randomUUID();
      return PlaceOrder.create(
        {
          orderId,
          userId: userIds[i % userIds.length]!,
          items: [{ sku: skuIds[i % skuIds.length]!, quantity: 1, unitPrice: 1_000 }],
          total: 1_000,
          placedAt: new Date().toISOString(),
        },
        { correlationId: orderId },
      );
    });
    for (const task of directOrders) await amqp.publish(DEFAULT_EXCHANGE, Queues.orderProcessing, task);
    // - payments, email, analytics, audit: `user.registered` on the `user-events` fanout;
    const newUserId = randomUUID();
    const registered = UserRegistered.create(
      { userId: newUserId, email: `${newUserId}@example.com`, firstName: 'Outage', lastName: 'Test', locale: 'en' },
      { correlationId: newUserId },
    );
    await amqp.publish(Exchanges.userEvents, '', registered);
    // - inventory: a compensation for an order it never saw (it leaves a tombstone);
    const strayOrder = randomUUID();
    await amqp.publish(
      DEFAULT_EXCHANGE,
      Queues.inventoryRelease,
      ReleaseInventory.create({ sagaId: randomUUID(), orderId: strayOrder }, { correlationId: strayOrder }),
    );
    // - the Kafka consumer groups (analytics, audit, order-notifications): `order.created` records;
    const kafkaEvents = Array.from({ length: 5 }, () => {
      const orderId = randomUUID();
      return OrderCreated.create(
        // A user the email service knows already: its order e-mail needs a recipient.
        { orderId, userId: userIds[0]!, items: [{ sku: 'SKU-OUTAGE', quantity: 1, unitPrice: 100 }], total: 100 },
        { correlationId: orderId },
      );
    });
    await kafka.send(kafkaEvents.map((e) => recordFor(Topics.orderEvents, e.data.orderId, e)));
    // - and one poison message, which must still be dead-lettered once the outage is over.
    const poisonId = randomUUID();
    await amqp.publishRaw(DEFAULT_EXCHANGE, Queues.orderProcessing, Buffer.from('{"type":"order.place", not json'), {
      messageId: poisonId,
      type: 'order.place',
    });

    // Every service notices, pauses its consumers, and says so on /health. A miss names the services that did not.
    let notPaused: string[] = [];
    await waitFor(
      'every service to report its consumers paused',
      async () => {
        const states = await Promise.all(
          Object.values(services).map(async (s) => [s.service, (await health(s)).checks?.consumers] as const),
        );
        notPaused = states.filter(([, state]) => state !== 'down').map(([name, state]) => `${name}: ${state}`);
        return notPaused.length === 0;
      },
      // The database stays down until every service has said so (at least outageMs): on a loaded machine a service
      // can take a while to notice and to answer /health, and the outage then lasts longer, never shorter.
      { timeoutMs: outageMs + 60_000, intervalMs: 500 },
    ).catch(async (error: Error) => {
      const stuck = Object.values(services).filter((s) => notPaused.some((n) => n.startsWith(`${s.service}:`)));
      const described = await Promise.all(stuck.map((s) => describeService(s)));
      throw new Error(`${error.message}; not paused: ${notPaused.join(', ')}\n${described.join('\n')}`);
    });
    const left = outageMs - (performance.now() - stoppedAt);
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    await startPostgres();
    const outage = { stopMs: Math.round(stoppedAt - stopping), downMs: Math.round(performance.now() - stoppedAt) };

    await load;
    // Deadlines follow from what was measured: the outage itself, plus the time to drain what piled up.
    const drainMs = 60_000 + 3 * outage.downMs;
    await settle(120 + 1 + directOrders.length, drainMs);
    const report = await awaitInvariants(ledger, drainMs);
    const letters = [
      ...(await deadLettersInQueues(env)),
      ...(await deadLettersInStore(started, env)),
      ...(await deadLettersInTopic(started, env)),
    ];
    console.log(
      `fault 5: database down ${outage.downMs} ms (retry budget ${retryBudgetMs} ms); orders ${JSON.stringify(report.orders)}; ` +
        `dead letters: ${letters.length === 0 ? 'none' : letters.map(formatDeadLetter).join('; ')}`,
    );
    expect(report.problems).toEqual([]);
    expect(outage.downMs).toBeGreaterThan(10 * retryBudgetMs);

    // Exactly one dead letter: the poison message, on its first attempt, with its reason.
    expect(letters.map(formatDeadLetter)).toHaveLength(1);
    expect(letters[0]).toMatchObject({ messageId: poisonId, retries: 0 });
    expect(letters[0]!.reason).toMatch(/^InvalidMessageError/);

    // Everything sent during the outage was handled.
    const [placed] = await query<{ n: number }>(
      env,
      'orders',
      `SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[]) AND status <> 'PENDING'`,
      [[...directOrders.map((t) => t.data.orderId), queued.body.orderId]],
    );
    expect(placed!.n, 'orders placed through the queue during the outage').toBe(directOrders.length + 1);
    const account = await waitFor(
      'the account opened from user.registered',
      async () => {
        const answer = await http('GET', `${urls.payments}/accounts/${newUserId}`);
        return answer.status === 200 ? answer : undefined;
      },
      { timeoutMs: drainMs },
    );
    expect(account.status).toBe(200);
    // Audit's Kafka group starts with this file and reads `order-events` from offset 0: every event the earlier
    // fault tests of the run produced (thousands) comes before the ones sent during the outage. Its deadline is the
    // drain deadline, and a miss names what is missing and shows audit's last log lines.
    const expected = [registered.messageId, ...kafkaEvents.map((e) => e.messageId)];
    let audited: string[] = [];
    await waitFor(
      'the audit log to hold what arrived during the outage',
      async () => {
        const rows = await query<{ message_id: string }>(
          env,
          'audit',
          'SELECT message_id FROM audit_log WHERE message_id = ANY($1::text[])',
          [expected],
        );
        audited = rows.map((r) => r.message_id);
        return audited.length === expected.length;
      },
      { timeoutMs: drainMs, intervalMs: 500 },
    ).catch((error: Error) => {
      const missing = expected.filter((id) => !audited.includes(id));
      throw new Error(`${error.message}; missing ${missing.join(', ')}\n--- audit ---\n${byName.audit.logs(60)}`);
    });
    expect(audited.sort()).toEqual([...expected].sort());
    const [tombstone] = await query<{ n: number }>(
      env,
      'inventory',
      'SELECT count(*)::int AS n FROM reservations WHERE order_id = $1',
      [strayOrder],
    );
    expect(tombstone!.n, 'the release handled by inventory').toBe(1);

    for (const service of Object.values(services)) {
      expect(await pauses(service, 'postgres'), `${service.service} paused for the database`).toBeGreaterThan(0);
      expect(service.pid, `${service.service} was not restarted`).toBe(pids[service.service]);
      expect((await http('GET', `${service.url}/health`)).status, `${service.service} is healthy`).toBe(200);
    }
  });
});
