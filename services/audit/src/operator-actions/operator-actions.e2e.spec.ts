import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorActionTaken, newMessageId } from '@am/contracts';
import { AmqpClient, Exchanges, Queues, deadLetterQueue } from '@am/messaging';
import { ServiceProcess, http, startServices, testEnv, tokenFor, waitFor } from '@am/testing';
import type { DeadLetterView } from '../inspect-dead-letters/dead-letter.view.js';
import type { OperatorActionEntry } from './operator-actions.controller.js';

// The audit trail of operators' actions on real processes: payments tells audit of each fault switched on and off
// (with the operator who did it) before it takes effect, a refused request leaves no trace, and a record sent by one
// service in another's name is dead-lettered with the reason instead of entering the trail.
const env = testEnv();
let services: Record<string, ServiceProcess>;
let orders: AmqpClient;
const url = (service: string, path: string) => `${services[service]!.url}${path}`;

beforeAll(async () => {
  services = await startServices(['audit', 'payments'], { payments: { FAULTS_ALLOWED: '1' } });
  orders = new AmqpClient({ url: env.rabbitmqUrl('orders'), connectionName: 'operator-actions.e2e orders' });
  await orders.connect();
}, 120_000);

afterAll(async () => {
  await orders?.close();
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

async function trail(query: string): Promise<OperatorActionEntry[]> {
  const got = await http<{ actions: OperatorActionEntry[] }>('GET', url('audit', `/operator-actions?${query}`));
  expect(got.status).toBe(200);
  return got.body.actions;
}

describe('the trail of operator actions', () => {
  it('records a fault switched on and off on payments, with the operator, before it takes effect', async () => {
    const on = await http<{ id: string }>('POST', url('payments', '/faults'), {
      kind: 'slow-consumer',
      source: Queues.paymentProcess,
      delayMs: 5,
      durationS: 60,
    });
    expect(on.status).toBe(201);
    expect((await http('DELETE', url('payments', `/faults/${on.body.id}`))).status).toBe(204);
    const recorded = await waitFor('both switches in the trail', async () => {
      const actions = await trail('service=payments&action=fault');
      const mine = actions.filter((a) => a.details.id === on.body.id || a.details.delayMs === 5);
      return mine.length === 2 ? mine : undefined;
    });
    expect(recorded.map((a) => a.action)).toEqual(['fault.off', 'fault.on']);
    for (const action of recorded) {
      expect(action).toMatchObject({ operator: 'tests', service: 'payments', target: Queues.paymentProcess });
    }
    expect(recorded[1]!.details).toMatchObject({ kind: 'slow-consumer', delayMs: 5, durationS: 60 });
  });

  it('leaves no trace of a refused request', async () => {
    const before = (await trail('service=payments')).length;
    const refused = await http('POST', url('payments', '/faults'), {
      kind: 'slow-consumer',
      source: Queues.orderProcessing,
      delayMs: 5,
    });
    expect(refused.status).toBe(400);
    // A record sent before the refusal would be in the trail by now: audit stored the previous test's within this time.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await trail('service=payments')).length).toBe(before);
  });

  it('dead-letters a record sent by one service in the name of another', async () => {
    const forged = OperatorActionTaken.create(
      { action: 'fault.off', operator: 'tests', service: 'payments', details: '{}' },
      { correlationId: newMessageId() },
    );
    await orders.publish(Exchanges.operatorActions, 'fault.off', forged);
    const letter = await waitFor('the forged record in the dead letters', async () => {
      const list = await http<{ deadLetters: DeadLetterView[] }>(
        'GET',
        url('audit', `/dead-letters?correlationId=${forged.correlationId}`),
      );
      return list.body.deadLetters[0];
    });
    expect(letter.queue).toBe(deadLetterQueue(Queues.auditOperatorActions));
    expect(letter.reason).toContain('names service payments but was sent by orders');
    expect((await trail('service=payments')).some((a) => a.id === forged.messageId)).toBe(false);
  });

  it('is for operators only', async () => {
    const refused = await http('GET', url('audit', '/operator-actions'), undefined, {
      authorization: `Bearer ${await tokenFor({ role: 'customer', subject: newMessageId() })}`,
    });
    expect(refused.status).toBe(403);
    expect((await http('GET', url('audit', '/operator-actions?limit=0'))).status).toBe(400);
  });
});
