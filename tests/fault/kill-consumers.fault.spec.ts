import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  awaitInvariants,
  http,
  persistently,
  pool,
  purgeRunQueues,
  seed,
  settle,
  startServices,
  type ServiceProcess,
} from '@am/testing';

// Fault 1: consumers are SIGKILLed again and again while 1,000 orders go through the saga, then while 1,000 go
// through the choreographed flow (docs/choreography.md), on one start of the services.
// CI runs 1,000 orders and 10 kills per flow; `npm run experiment:kill-consumers` runs the same test larger.
const ORDERS = Number(process.env.FAULT_ORDERS ?? 1_000);
const KILLS = Number(process.env.FAULT_KILLS ?? 10);
const FLOWS = ['orchestrated', 'choreographed'] as const;
/** Orders the runs before this one left in the shared orders database (`settle` counts them all). */
let placedBefore = 0;
let services: Record<string, ServiceProcess>;

beforeAll(async () => {
  await purgeRunQueues();
  services = await startServices(['orders', 'inventory', 'payments'], {
    orders: { SAGA_STEP_TIMEOUT_MS: '20000' },
  });
});

afterAll(async () => {
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

describe.each(FLOWS)(`SIGKILL consumers mid-batch during a run of ${ORDERS} orders, %s`, (flow) => {
  it('loses nothing and applies no effect twice', async () => {
    const urls = { orders: services.orders!.url, inventory: services.inventory!.url, payments: services.payments!.url };
    // Enough money for most orders but not all, and less stock than demand: every outcome happens.
    const scale = ORDERS / 1_000;
    const { ledger, userIds, skuIds } = await seed(urls, 5, Math.round(150_000 * scale), 4, Math.round(200 * scale));
    const placed = await pool(ORDERS, 25, async (i) => {
      const body = {
        userId: userIds[i % userIds.length],
        items: [{ sku: skuIds[i % skuIds.length], quantity: 1 + (i % 2), unitPrice: 1_000 }],
        ...(flow === 'orchestrated' ? {} : { flow }),
      };
      return (await persistently(() => http<{ orderId: string }>('POST', `${urls.orders}/orders`, body))).body.orderId;
    });
    expect(new Set(placed).size).toBe(ORDERS);

    // Kill a consumer every 1.5 s for 15 s, restarting it right away: they die with messages in flight.
    const victims = ['orders', 'inventory', 'payments'] as const;
    let kills = 0;
    for (let round = 0; round < KILLS; round++) {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const victim = services[victims[round % victims.length]!]!;
      await victim.stop('SIGKILL');
      kills += 1;
      await victim.start();
    }
    await settle(placedBefore + ORDERS, 120_000 * Math.max(1, scale));
    placedBefore += ORDERS;
    const report = await awaitInvariants(ledger);
    console.log(`fault 1 (${flow}): ${kills} kills, orders by status ${JSON.stringify(report.orders)}`);
    expect(report.problems).toEqual([]);
    expect((report.orders.CONFIRMED ?? 0) + (report.orders.CANCELLED ?? 0)).toBe(ORDERS);
  });
});
