import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startServices, waitFor, type ServiceProcess } from '@am/testing';
import type { OneAccountActivity } from './account-activity.controller.js';

// orders, payments and analytics as real processes: payments' event-sourced accounts reach Kafka through its outbox
// (`account-events`), and analytics builds its own view of them (consumer group analytics-accounts). Two services,
// one stream of events, the same balance.
let services: Record<string, ServiceProcess>;
const url = (service: string, path: string) => `${services[service]!.url}${path}`;

beforeAll(async () => {
  services = await startServices(['orders', 'payments', 'analytics']);
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

describe('analytics: account activity from account-events', () => {
  it('shows what payments did to an account, and agrees with payments on its balance', async () => {
    const user = await http<{ userId: string }>('POST', url('orders', '/users'), {
      email: `${randomUUID()}@example.com`,
      name: 'Ada',
    });
    expect(user.status).toBe(201);
    const { userId } = user.body;
    await waitFor(
      'payments to open the account',
      async () => (await http('GET', url('payments', `/accounts/${userId}`))).status === 200,
    );
    for (const amount of [700, 300, 250]) {
      expect((await http('POST', url('payments', `/accounts/${userId}/deposits`), { amount })).status).toBe(201);
    }
    const payments = await http<{ balance: number; version: number }>('GET', url('payments', `/accounts/${userId}`));
    expect(payments.body).toMatchObject({ balance: 1250, version: 4 });

    const activity = await waitFor('analytics to project the four account events', async () => {
      const answer = await http<OneAccountActivity>('GET', url('analytics', `/analytics/accounts/${userId}`));
      return answer.status === 200 && answer.body.deposits === 3 ? answer.body : undefined;
    });
    expect(activity).toEqual({
      accountId: userId,
      opened: true,
      closed: false,
      deposits: 3,
      deposited: 1250,
      withdrawals: 0,
      withdrawn: 0,
      balance: payments.body.balance,
    });
    const all = await http<{ accounts: number; balance: number }>('GET', url('analytics', '/analytics/accounts'));
    expect(all.status).toBe(200);
    expect(all.body.accounts).toBeGreaterThanOrEqual(1);
    expect(all.body.balance).toBeGreaterThanOrEqual(1250);
  });

  it('answers 404 for an account it has no event of, and 400 for an id no account can have', async () => {
    const answer = await http<{ message: string }>('GET', url('analytics', `/analytics/accounts/${randomUUID()}`));
    expect(answer.status).toBe(404);
    const tooLong = await http<{ message: string[] }>('GET', url('analytics', `/analytics/accounts/${'x'.repeat(65)}`));
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.message).toEqual(['accountId: must be 1 to 64 characters']);
  });
});
