import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  awaitInvariants,
  http,
  persistently,
  pool,
  purgeRunQueues,
  restartKafka,
  restartPostgres,
  restartRabbitMq,
  seed,
  settle,
  startServices,
  type ServiceProcess,
} from '@am/testing';

// Fault 3: RabbitMQ, Kafka and PostgreSQL are each restarted while orders flow. The services are not restarted:
// they must recover on their own. They keep the tests' short retry delays (0.1-0.4 s, used up long before any
// restart ends): an outage pauses the consumers instead of spending retries, so no delay has to outlast it.
let services: Record<string, ServiceProcess>;

beforeAll(async () => {
  await purgeRunQueues();
  services = await startServices(['orders', 'inventory', 'payments'], {
    orders: { SAGA_STEP_TIMEOUT_MS: '120000' },
  });
});

afterAll(async () => {
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

describe('broker and database restarts mid-run', () => {
  it('loses nothing, and the services recover without being restarted', async () => {
    const urls = { orders: services.orders!.url, inventory: services.inventory!.url, payments: services.payments!.url };
    const pids = Object.fromEntries(Object.values(services).map((s) => [s.service, s.pid]));
    const { ledger, userIds, skuIds } = await seed(urls, 3, 200_000, 3, 200);

    // Orders keep coming while the restarts happen; an Idempotency-Key makes every retry of a POST safe.
    let placed = 0;
    const load = pool(450, 5, async (i) => {
      const body = {
        userId: userIds[i % userIds.length],
        items: [{ sku: skuIds[i % skuIds.length], quantity: 1, unitPrice: 1_000 }],
      };
      const key = { 'idempotency-key': randomUUID() };
      await persistently(() => http('POST', `${urls.orders}/orders`, body, key), 300_000);
      placed += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    const timings: Record<string, number> = {};
    const timed = async (name: string, restart: () => Promise<void>) => {
      const started = performance.now();
      await restart();
      timings[name] = Math.round(performance.now() - started);
    };
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await timed('rabbitmq', restartRabbitMq);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await timed('kafka', () => restartKafka());
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await timed('postgres', restartPostgres);
    await load;

    // Deadlines follow from what was measured: the restarts' own durations, plus time to drain the backlog.
    const restartsMs = timings.rabbitmq! + timings.kafka! + timings.postgres!;
    await settle(450, 60_000 + 3 * restartsMs);
    const report = await awaitInvariants(ledger, 30_000 + restartsMs);
    console.log(
      `fault 3: restarts took ${JSON.stringify(timings)} ms; ${placed} orders; outcomes ${JSON.stringify(report.orders)}`,
    );
    expect(report.problems).toEqual([]);
    expect((report.orders.CONFIRMED ?? 0) + (report.orders.CANCELLED ?? 0)).toBe(450);
    for (const service of Object.values(services)) {
      expect(service.pid, `${service.service} was not restarted`).toBe(pids[service.service]);
      expect((await http('GET', `${service.url}/health`)).status, `${service.service} is healthy`).toBe(200);
    }
  });
});
