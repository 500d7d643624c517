import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel } from 'amqplib';
import { PlaceOrder } from '@am/contracts';
import { AmqpClient, DEFAULT_EXCHANGE, Queues, RetryHeaders, deadLetterQueue } from '@am/messaging';
import { http, startServices, testEnv, tokenFor, waitFor, type ServiceProcess } from '@am/testing';
import type { DeadLetterGroup } from '../inspect-dead-letters/dead-letter-groups.js';
import type { DeadLetterView } from '../inspect-dead-letters/dead-letter.view.js';
import type { ReplayRunPreview, ReplayRunView } from './replay-runs.js';

// Bulk replay on the real audit service and RabbitMQ. Tasks are put straight onto order-processing-dlq with one
// failure of their own (a reason no other test uses), so they form one group. No orders process runs: the test itself
// is order-processing's only consumer and notes when each replayed message arrives, so it can count them (each dead
// letter sent exactly once) and time them (the rate kept). While a run goes on, a new dead letter of the same group
// arrives, and the run's warning counts it.
let services: Record<string, ServiceProcess>;
let admin: AmqpClient;
let channel: Channel;
const arrivals: { messageId: string; at: number }[] = [];
const url = (path: string) => `${services.audit!.url}${path}`;
/** A word no other dead letter's reason has: letters only, so the fingerprint keeps it. */
const word = () => [...randomBytes(10)].map((b) => String.fromCharCode(97 + (b % 26))).join('');

beforeAll(async () => {
  services = await startServices(['audit']);
  admin = new AmqpClient({ url: testEnv().adminAmqpUrl, connectionName: 'bulk-replay.e2e.spec' });
  await admin.connect();
  channel = await admin.createChannel();
  await channel.purgeQueue(Queues.orderProcessing);
  await channel.prefetch(1_000);
  await channel.consume(Queues.orderProcessing, (message) => {
    if (!message) return;
    arrivals.push({ messageId: String(message.properties.messageId), at: Date.now() });
    channel.ack(message);
  });
});

afterAll(async () => {
  await channel?.close().catch(() => undefined);
  await admin?.close();
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

/** Dead-letters `count` place-order tasks that failed with `reason`; answers their stored dead letters. */
async function deadLetters(count: number, reason: string): Promise<DeadLetterView[]> {
  const tasks = Array.from({ length: count }, () => {
    const orderId = randomUUID();
    return PlaceOrder.create(
      {
        orderId,
        userId: randomUUID(),
        items: [{ sku: 'BULK-1', quantity: 1, unitPrice: 100 }],
        total: 100,
        placedAt: new Date().toISOString(),
      },
      { correlationId: orderId },
    );
  });
  const now = new Date().toISOString();
  for (const task of tasks) {
    await admin.publish(DEFAULT_EXCHANGE, deadLetterQueue(Queues.orderProcessing), task, {
      headers: {
        [RetryHeaders.retryCount]: 3,
        [RetryHeaders.error]: reason,
        [RetryHeaders.originalQueue]: Queues.orderProcessing,
        [RetryHeaders.firstFailureAt]: now,
        [RetryHeaders.lastFailureAt]: now,
      },
    });
  }
  const ids = new Set(tasks.map((t) => t.messageId));
  return waitFor(`audit to store ${count} dead letters`, async () => {
    const list = await http<{ deadLetters: DeadLetterView[] }>(
      'GET',
      url('/dead-letters?queue=order-processing&limit=500'),
    );
    const stored = list.body.deadLetters.filter((d) => ids.has(d.messageId));
    return stored.length === count ? stored.sort((a, b) => a.id - b.id) : undefined;
  });
}

async function groupOf(letter: DeadLetterView): Promise<DeadLetterGroup> {
  const { body } = await http<{ groups: DeadLetterGroup[] }>('GET', url('/dead-letter-groups'));
  return body.groups.find((g) => g.ids.includes(letter.id))!;
}

const finished = (id: number) =>
  waitFor(
    `bulk replay ${id} to end`,
    async () => {
      const run = await http<ReplayRunView>('GET', url(`/dead-letter-replays/${id}`));
      return run.body.state === 'running' ? undefined : run.body;
    },
    { timeoutMs: 30_000 },
  );

describe('a bulk replay', () => {
  const reason = `Error: the ledger ${word()} is unreachable`;
  let letters: DeadLetterView[];
  let group: DeadLetterGroup;

  it('shows what it would send in a dry run, and sends nothing', async () => {
    letters = await deadLetters(10, reason);
    group = await groupOf(letters[0]!);
    expect(group).toMatchObject({ count: 10, waiting: 10, where: 'order-processing-dlq' });
    const preview = await http<ReplayRunPreview>('POST', url('/dead-letter-replays'), {
      groupId: group.fingerprint,
      perSecond: 5,
      dryRun: true,
    });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({
      dryRun: true,
      total: 10,
      willSend: 10,
      estimatedSeconds: 1.8,
      destinations: { [Queues.orderProcessing]: 10 },
      skipped: [],
    });
    expect(preview.body.letters.map((l) => l.id)).toEqual(letters.map((l) => l.id));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(arrivals).toEqual([]);
  });

  it('sends each letter exactly once at the rate asked, and warns of a failure of the same group meanwhile', async () => {
    const started = await http<ReplayRunView>('POST', url('/dead-letter-replays'), {
      groupId: group.fingerprint,
      perSecond: 5,
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(started.headers.get('location')).toBe(`/dead-letter-replays/${started.body.id}`);
    expect(started.body).toMatchObject({ state: 'running', startedBy: 'tests', total: 10, perSecond: 5 });
    expect(started.body.selection).toMatchObject({ kind: 'group', groupId: group.fingerprint, waiting: 10 });
    // A new failure of the same group while the run goes on: counted, and not replayed by this run.
    const [fresh] = await deadLetters(1, reason);
    const during = await http<ReplayRunView>('GET', url(`/dead-letter-replays/${started.body.id}`));
    expect(during.body.state).toBe('running');
    expect(during.body.newFailures).toMatchObject({ count: 1, cameBack: 0, latestIds: [fresh!.id] });
    expect(during.body.remaining).toBeGreaterThan(0);
    const run = await finished(started.body.id);
    expect(run).toMatchObject({ state: 'done', sent: 10, skipped: 0, failed: 0, remaining: 0 });
    expect(run.newFailures.count).toBe(1);
    // Exactly one message per dead letter: ten arrived, one of each, and nothing more comes.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(arrivals.map((a) => a.messageId).sort()).toEqual(letters.map((l) => l.messageId).sort());
    // The rate: 10 at 5/s is 9 gaps of 200 ms. Arrival times carry the broker's jitter (one delivery late by 90 ms
    // makes the next gap 110 ms), so every stretch of k gaps is held to k × 200 ms less 150 ms: two letters sent
    // together, or any burst, breaks it.
    const times = arrivals.map((a) => a.at);
    const span = times.at(-1)! - times[0]!;
    expect(span).toBeGreaterThanOrEqual(1_650);
    expect(span).toBeLessThan(4_000);
    const tooFast = times.flatMap((from, i) =>
      times
        .slice(i + 1)
        .flatMap((to, k) => (to - from < (k + 1) * 200 - 150 ? [`${k + 1} gaps in ${to - from} ms`] : [])),
    );
    expect(tooFast).toEqual([]);
    // Each letter is marked replayed by the operator who started the run; the new one still waits.
    for (const letter of letters) {
      const got = await http<DeadLetterView>('GET', url(`/dead-letters/${letter.id}`));
      expect(got.body).toMatchObject({ replayCount: 1, replayedBy: 'tests' });
    }
    expect((await groupOf(fresh!)).waiting).toBe(1);
  });

  it('skips the letters replayed already and sends nothing for them', async () => {
    arrivals.length = 0;
    const again = await http<ReplayRunView>('POST', url('/dead-letter-replays'), {
      ids: letters.map((l) => String(l.id)),
      perSecond: 50,
    });
    expect(again.status).toBe(202);
    const run = await finished(again.body.id);
    expect(run).toMatchObject({ state: 'done', sent: 0, skipped: 10, failed: 0, remaining: 0 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(arrivals).toEqual([]);
  });

  it('stops sending when cancelled', async () => {
    arrivals.length = 0;
    const more = await deadLetters(6, `Error: the ledger ${word()} is unreachable`);
    const started = await http<ReplayRunView>('POST', url('/dead-letter-replays'), {
      ids: more.map((l) => l.id),
      perSecond: 1,
    });
    expect(started.status).toBe(202);
    await waitFor('two sent', () => arrivals.length >= 2, { timeoutMs: 5_000 });
    const cancelled = await http<ReplayRunView>('DELETE', url(`/dead-letter-replays/${started.body.id}`));
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ state: 'cancelled', cancelledBy: 'tests' });
    expect(cancelled.body.sent).toBeGreaterThanOrEqual(2);
    expect(cancelled.body.remaining).toBeGreaterThan(0);
    const sent = cancelled.body.sent;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(arrivals).toHaveLength(sent);
    expect((await http('DELETE', url(`/dead-letter-replays/${started.body.id}`))).status).toBe(409);
    // The trail holds the cancel once: the refused second one (409) left no record.
    const trail = async () =>
      (
        await http<{ actions: { action: string; operator: string }[] }>(
          'GET',
          url(`/operator-actions?action=dead-letter.bulk-replay-cancel&target=${started.body.id}`),
        )
      ).body.actions;
    await waitFor('the cancel in the trail', async () => (await trail()).length > 0);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await trail()).toEqual([expect.objectContaining({ operator: 'tests' })]);
    const listed = await http<{ runs: ReplayRunView[] }>('GET', url('/dead-letter-replays'));
    expect(listed.body.runs[0]).toMatchObject({ id: started.body.id, state: 'cancelled' });
  });

  it('refuses bad input (400), what is not there (404), and a customer (403), and starts nothing', async () => {
    const before = (await http<{ runs: ReplayRunView[] }>('GET', url('/dead-letter-replays'))).body.runs[0]?.id;
    const bad = [
      { perSecond: 5 },
      { ids: ['1'], groupId: group.fingerprint, perSecond: 5 },
      { ids: [], perSecond: 5 },
      { ids: ['x'], perSecond: 5 },
      { ids: [String(letters[0]!.id)], perSecond: 0 },
      { ids: [String(letters[0]!.id)], perSecond: 201 },
      { groupId: 'not-a-group', perSecond: 5 },
      'not json at all',
    ];
    for (const body of bad) {
      const answer = await http<{ reason?: string }>('POST', url('/dead-letter-replays'), body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
    }
    expect((await http('POST', url('/dead-letter-replays'), { groupId: '000000000000', perSecond: 5 })).status).toBe(
      404,
    );
    expect((await http('POST', url('/dead-letter-replays'), { ids: ['999999999999'], perSecond: 5 })).status).toBe(404);
    // Letters that were all replayed: admitted, and every one skipped (the run before showed it).
    expect((await http('POST', url('/dead-letter-replays'), { ids: [letters[0]!.id], perSecond: 5 })).status).toBe(202);
    expect((await http('GET', url('/dead-letter-replays/abc'))).status).toBe(400);
    expect((await http('GET', url('/dead-letter-replays/999999999'))).status).toBe(404);
    expect((await http('DELETE', url('/dead-letter-replays/999999999'))).status).toBe(404);
    const customer = { authorization: `Bearer ${await tokenFor({ role: 'customer', subject: randomUUID() })}` };
    expect(
      (await http('POST', url('/dead-letter-replays'), { groupId: group.fingerprint, perSecond: 5 }, customer)).status,
    ).toBe(403);
    expect((await http('GET', url('/dead-letter-replays'), undefined, customer)).status).toBe(403);
    expect((await http('GET', url(`/dead-letter-groups/${group.fingerprint}`), undefined, customer)).status).toBe(403);
    const after = (await http<{ runs: ReplayRunView[] }>('GET', url('/dead-letter-replays'))).body.runs;
    // Only the one admitted run above (all skipped) was started.
    expect(after.filter((r) => r.id > (before ?? 0))).toHaveLength(1);
  });

  it("lists a group's letters, without their bodies", async () => {
    const answer = await http<{ group: DeadLetterGroup; letters: DeadLetterView[] }>(
      'GET',
      url(`/dead-letter-groups/${group.fingerprint}`),
    );
    expect(answer.status).toBe(200);
    expect(answer.body.group.count).toBe(11);
    expect(answer.body.letters).toHaveLength(11);
    expect(answer.body.letters[0]).not.toHaveProperty('content');
    expect(answer.body.letters[0]).toMatchObject({ consumer: 'orders', originalQueue: Queues.orderProcessing });
    expect((await http('GET', url('/dead-letter-groups/zzz'))).status).toBe(400);
    expect((await http('GET', url('/dead-letter-groups/000000000000'))).status).toBe(404);
  });
});
