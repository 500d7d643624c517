import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlaceOrder } from '@am/contracts';
import { AmqpClient, DEFAULT_EXCHANGE, Exchanges, Queues, RetryHeaders } from '@am/messaging';
import { ServiceProcess, http, serviceEnv, startServices, testEnv, waitFor } from '@am/testing';
import type { DeadLetterGroup } from '../inspect-dead-letters/dead-letter-groups.js';
import type { DeadLetterView } from '../inspect-dead-letters/dead-letter.view.js';
import type { ReplayAnswer } from './replay-dead-letter.controller.js';

// The dead-letter workbench on real processes: orders dead-letters two malformed tasks for real (a string where the
// total is a number), audit groups them by failure, shows the dry run of a replay, refuses bad edits, sends exactly
// one message for an edited replay (counted in the queue while its consumer is stopped), and flags a replayed letter
// whose message fails again.
const env = testEnv();
let services: Record<string, ServiceProcess>;
let admin: AmqpClient;
const url = (service: string, path: string) => `${services[service]!.url}${path}`;

beforeAll(async () => {
  services = await startServices(['audit', 'orders']);
  admin = new AmqpClient({ url: env.adminAmqpUrl, connectionName: 'workbench.e2e.spec' });
  await admin.connect();
});

afterAll(async () => {
  await admin?.close();
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

/** A place-order task whose total is a string, sent to order-processing: orders dead-letters it at once. */
async function malformedTask(): Promise<{ task: PlaceOrder; letter: DeadLetterView }> {
  // A registered user: the edited task, once valid, is one orders accepts.
  const user = await http<{ userId: string }>('POST', url('orders', '/users'), {
    email: `${randomUUID()}@example.com`,
    name: 'Wanda Workbench',
  });
  expect(user.status).toBe(201);
  const orderId = randomUUID();
  const task = PlaceOrder.create(
    {
      orderId,
      userId: user.body.userId,
      items: [{ sku: 'WB-1', quantity: 1, unitPrice: 1_000 }],
      total: 1_000,
      placedAt: new Date().toISOString(),
    },
    { correlationId: orderId },
  );
  const body = Buffer.from(JSON.stringify({ ...task, data: { ...task.data, total: 'ten euros' } }));
  await admin.publishRaw(DEFAULT_EXCHANGE, Queues.orderProcessing, body, {
    messageId: task.messageId,
    type: task.type,
    correlationId: orderId,
  });
  const letter = await waitFor('audit to store the dead letter', async () => {
    const list = await http<{ deadLetters: DeadLetterView[] }>(
      'GET',
      url('audit', `/dead-letters?correlationId=${orderId}`),
    );
    return list.body.deadLetters[0];
  });
  return { task, letter };
}

const ready = async () => (await admin.queueDepths([Queues.orderProcessing]))[0]?.messages ?? 0;

describe('the dead-letter workbench', () => {
  let first: { task: PlaceOrder; letter: DeadLetterView };
  let second: { task: PlaceOrder; letter: DeadLetterView };

  it('groups dead letters that failed the same way in the same place into one row', async () => {
    first = await malformedTask();
    second = await malformedTask();
    const { body } = await http<{ groups: DeadLetterGroup[] }>('GET', url('audit', '/dead-letter-groups'));
    const group = body.groups.find((g) => g.ids.includes(first.letter.id));
    expect(group).toBeDefined();
    expect(group!.ids).toContain(second.letter.id);
    expect(group).toMatchObject({ where: 'order-processing-dlq', messageType: 'order.place' });
    expect(group!.reason).toContain('total');
    expect(group!.count).toBeGreaterThanOrEqual(2);
  });

  it('shows exactly what a replay would send, and sends nothing', async () => {
    const before = await ready();
    const plan = await http<Record<string, unknown>>(
      'GET',
      url('audit', `/dead-letters/${first.letter.id}/replay-plan`),
    );
    expect(plan.status).toBe(200);
    expect(plan.body).toMatchObject({
      kind: 'queue',
      exchange: Exchanges.replays,
      routingKey: Queues.orderProcessing,
      messageId: first.task.messageId,
      headers: { [RetryHeaders.retryCount]: 0 },
    });
    expect(plan.body.body).toContain('ten euros');
    expect(await ready()).toBe(before);
    const letter = await http<DeadLetterView>('GET', url('audit', `/dead-letters/${first.letter.id}`));
    expect(letter.body.replayedAt).toBeNull();
  });

  it('refuses an edit that is invalid, changes the message id, or changes nothing (400), and sends nothing', async () => {
    const before = await ready();
    const original = { ...first.task, data: { ...first.task.data, total: 'ten euros' } };
    for (const envelope of [
      original,
      { ...first.task, data: { ...first.task.data, total: -5 } },
      { ...first.task, messageId: randomUUID() },
    ]) {
      const answer = await http('POST', url('audit', `/dead-letters/${first.letter.id}/replay`), { envelope });
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    }
    expect(await ready()).toBe(before);
  });

  it('sends exactly one message for an edited replay, the edited one, and the order is made from it', async () => {
    // The consumer away: what the replay sends stays in the queue, to be counted.
    const orders = services.orders!;
    await orders.stop();
    const before = await ready();
    const answer = await http<ReplayAnswer>('POST', url('audit', `/dead-letters/${first.letter.id}/replay`), {
      envelope: first.task,
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect(answer.body).toMatchObject({ replayedTo: Queues.orderProcessing, changed: ['data.total'] });
    await waitFor('the replay in the queue', async () => (await ready()) === before + 1);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await ready()).toBe(before + 1);
    services.orders = await new ServiceProcess('orders', orders.port, serviceEnv('orders', env)).start();
    const made = await waitFor('orders to store the edited order', async () => {
      const got = await http<{ total: number }>('GET', url('orders', `/orders/${first.task.data.orderId}`));
      return got.status === 200 ? got.body : undefined;
    });
    expect(made.total).toBe(1_000);
    const again = await http('POST', url('audit', `/dead-letters/${first.letter.id}/replay`), { envelope: first.task });
    expect(again.status).toBe(409);
  }, 60_000);

  it('flags a replayed dead letter whose message fails again as come back', async () => {
    const replay = await http<ReplayAnswer>('POST', url('audit', `/dead-letters/${second.letter.id}/replay`));
    expect(replay.status).toBe(202);
    const flagged = await waitFor('the replayed letter to come back', async () => {
      const got = await http<DeadLetterView>('GET', url('audit', `/dead-letters/${second.letter.id}`));
      return got.body.cameBackAt ? got.body : undefined;
    }).catch(async (error: Error) => {
      const all = await http('GET', url('audit', `/dead-letters?correlationId=${second.task.correlationId}`));
      throw new Error(`${error.message}\n${JSON.stringify(all.body).slice(0, 2000)}`);
    });
    expect(flagged.replayedAt).not.toBeNull();
    const { body } = await http<{ groups: DeadLetterGroup[] }>('GET', url('audit', '/dead-letter-groups'));
    expect(body.groups.find((g) => g.ids.includes(second.letter.id))!.cameBack).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
