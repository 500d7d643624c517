import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlaceOrder } from '@am/contracts';
import { AmqpClient, DEFAULT_EXCHANGE, Queues, RetryHeaders, deadLetterQueue } from '@am/messaging';
import { http, startServices, testEnv, waitFor, type ServiceProcess, operatorToken } from '@am/testing';
import type { DeadLetterView } from '../inspect-dead-letters/dead-letter.view.js';

// audit and orders as real processes over this run's vhost, topics and databases. The test plays a broken
// producer: it publishes poison straight to `order-processing` (orders dead-letters it) and fakes dead letters
// straight onto `-dlq` queues, the way the library's consumer or RabbitMQ itself would write them.
let services: Record<string, ServiceProcess>;
let admin: AmqpClient;
const audit = (path: string) => `${services.audit!.url}${path}`;

beforeAll(async () => {
  services = await startServices(['audit', 'orders']);
  admin = new AmqpClient({ url: testEnv().adminAmqpUrl, connectionName: 'dead-letters.e2e.spec' });
  await admin.connect();
});

afterAll(async () => {
  await admin?.close();
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

/** Waits until the audit service lists a dead letter with this message id, and returns it. */
function stored(messageId: string, timeoutMs = 15_000): Promise<DeadLetterView> {
  return waitFor(
    `dead letter ${messageId} to be stored`,
    async () => {
      const list = await http<{ deadLetters: DeadLetterView[] }>('GET', audit('/dead-letters?limit=500'));
      return list.body.deadLetters.find((d) => d.messageId === messageId);
    },
    { timeoutMs },
  );
}

/** Reads one sample of a Prometheus metric from the audit service (0 when absent). */
async function metric(line: string): Promise<number> {
  const text = await (await fetch(audit('/metrics'))).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.split(' ')[1]) : 0;
}

const publishTo = (queue: string, body: Buffer, messageId: string, headers: Record<string, unknown> = {}) =>
  admin.publishRaw(DEFAULT_EXCHANGE, queue, body, {
    messageId,
    type: 'order.place',
    correlationId: messageId,
    headers,
  });

describe('storing dead letters', () => {
  it('stores a dead letter with the reason and retry count from its headers, once even when it comes twice', async () => {
    // Given a dead letter as the library writes it after three retries, delivered twice (a lost ack)
    const queue = deadLetterQueue(Queues.analyticsTracking);
    const messageId = randomUUID();
    const headers = {
      [RetryHeaders.retryCount]: 3,
      [RetryHeaders.error]: 'Error: analytics database is down',
      [RetryHeaders.originalQueue]: Queues.analyticsTracking,
      [RetryHeaders.firstFailureAt]: '2026-01-01T10:00:00.000Z',
      [RetryHeaders.lastFailureAt]: '2026-01-01T10:00:31.000Z',
    };
    const body = Buffer.from('{"some":"envelope"}');
    await publishTo(queue, body, messageId, headers);
    await publishTo(queue, body, messageId, headers);

    // Then it is stored once, with what its headers say, and both deliveries were acknowledged
    const letter = await stored(messageId);
    expect(letter).toMatchObject({
      queue,
      originalQueue: Queues.analyticsTracking,
      type: 'order.place',
      correlationId: messageId,
      reason: 'Error: analytics database is down',
      retryCount: 3,
      firstFailedAt: '2026-01-01T10:00:00.000Z',
      lastFailedAt: '2026-01-01T10:00:31.000Z',
      replayedAt: null,
      replayCount: 0,
      content: '{"some":"envelope"}',
    });
    await waitFor('both deliveries to be handled', async () => {
      return (await metric(`messages_consumed_total{source="${queue}",service="audit"}`)) === 2;
    });
    const all = await http<{ deadLetters: DeadLetterView[] }>('GET', audit(`/dead-letters?queue=${queue}`));
    expect(all.body.deadLetters.filter((d) => d.messageId === messageId)).toHaveLength(1);
    expect(await metric(`dead_letters_stored_total{queue="${queue}",service="audit"}`)).toBe(1);
    // And an error-level log line names it
    await waitFor('the error log line', () => services.audit!.logs(200).includes(messageId));
    const line = services
      .audit!.logs(200)
      .split('\n')
      .find((l) => l.includes(messageId) && l.includes('dead letter stored'));
    expect(JSON.parse(line!)).toMatchObject({
      level: 50,
      queue,
      messageId,
      reason: 'Error: analytics database is down',
      retryCount: 3,
    });
  });

  it('stores a message RabbitMQ dead-lettered by itself, with the reason from x-death', async () => {
    // Given a message on inventory.release that a consumer rejects without requeue (inventory is not running)
    const channel = await admin.createChannel();
    await channel.purgeQueue(Queues.inventoryRelease);
    const messageId = randomUUID();
    await publishTo(Queues.inventoryRelease, Buffer.from('{}'), messageId);
    const message = await waitFor('the message', async () => (await channel.get(Queues.inventoryRelease)) || undefined);
    channel.nack(message, false, false);
    await channel.close();

    // Then the policy routes it to inventory.release-dlq and the audit service stores it
    const letter = await stored(messageId);
    expect(letter).toMatchObject({
      queue: deadLetterQueue(Queues.inventoryRelease),
      reason: 'dead-lettered by RabbitMQ: rejected from inventory.release',
      retryCount: 0,
    });
    expect(letter.lastFailedAt).not.toBeNull();
  });

  it.each([
    ['invalid JSON', Buffer.from('{"messageId": "oops", '), /^InvalidMessageError: invalid JSON/],
    [
      'a __proto__ key',
      Buffer.from('{"__proto__": {"type": "order.place", "isAdmin": true}, "data": {"constructor": {}}}'),
      /^InvalidMessageError: (forbidden key in message: __proto__|invalid envelope)/,
    ],
  ])('stores %s that orders refused, with retry count 0 and the body as sent', async (_name, body, reason) => {
    // Given a poison message on order-processing, which orders dead-letters at once
    const messageId = randomUUID();
    await publishTo(Queues.orderProcessing, body, messageId);

    // Then it is stored with orders' reason, no retries, and the exact text
    const letter = await stored(messageId);
    expect(letter).toMatchObject({ queue: 'order-processing-dlq', retryCount: 0, content: body.toString('utf8') });
    expect(letter.reason).toMatch(reason);
  });

  it('stores a 10 MB body byte for byte, listing it with a size note', async () => {
    // Given a 10 MB message on order-processing, over the 1 MB limit of every consumer
    const messageId = randomUUID();
    const body = Buffer.alloc(10 * 1024 * 1024, 'x');
    await publishTo(Queues.orderProcessing, body, messageId);

    // Then it is stored, shown with a note instead of its content, and its bytes can be fetched unchanged
    const letter = await stored(messageId, 30_000);
    expect(letter).toMatchObject({ retryCount: 0, contentBytes: body.length, content: null });
    expect(letter.reason).toMatch(/message too large/);
    expect(letter.contentNote).toMatch(/too large to show inline/);
    const raw = await fetch(audit(`/dead-letters/${letter.id}/content`), {
      headers: { authorization: `Bearer ${await operatorToken()}` },
    });
    expect(raw.headers.get('content-type')).toBe('application/octet-stream');
    const bytes = Buffer.from(await raw.arrayBuffer());
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(sha(bytes)).toBe(sha(body));
  });

  it('keeps the first 16 MiB of a 50 MB dead letter (size and SHA-256 of the whole), refuses to replay it, and stays small and fast', async () => {
    // Given a 50 MB dead letter (RabbitMQ takes up to 128 MiB)
    const messageId = randomUUID();
    const body = Buffer.alloc(50 * 1024 * 1024, 'y');
    await publishTo(deadLetterQueue(Queues.orderProcessing), body, messageId, { [RetryHeaders.retryCount]: 0 });
    const letter = await stored(messageId, 60_000);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(letter).toMatchObject({
      contentBytes: body.length,
      contentTruncated: true,
      contentSha256: sha(body),
      content: null,
    });
    expect(letter.contentNote).toMatch(/of which the first 16777216 are kept/);
    expect((await http('POST', audit(`/dead-letters/${letter.id}/replay`))).status).toBe(409);

    // Downloaded 8 times: each is the kept 16 MiB, flagged; audit's memory does not grow with the downloads, and
    // /health stays fast.
    const rss = () =>
      Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${services.audit!.pid}/status`, 'utf8'))![1]) / 1024;
    const before = rss();
    const auth = { authorization: `Bearer ${await operatorToken()}` };
    for (let i = 0; i < 8; i++) {
      const raw = await fetch(audit(`/dead-letters/${letter.id}/content`), { headers: auth });
      expect(raw.headers.get('x-content-truncated')).toBe('true');
      expect((await raw.arrayBuffer()).byteLength).toBe(16 * 1024 * 1024);
    }
    const started = performance.now();
    expect((await http('GET', `${services.audit!.url}/health`)).status).toBe(200);
    const healthMs = performance.now() - started;
    const after = rss();
    console.log(
      `audit RSS ${before.toFixed(0)} MiB before 8 downloads, ${after.toFixed(0)} MiB after; /health ${healthMs.toFixed(0)} ms`,
    );
    expect(healthMs).toBeLessThan(1_000);
    expect(after - before).toBeLessThan(100);
  }, 120_000);

  it('stores a message that kept failing after three retries, with retry count 3', async () => {
    // Given a valid order.place for a user that does not exist: the insert fails every time
    const orderId = randomUUID();
    const task = PlaceOrder.create(
      {
        orderId,
        userId: randomUUID(),
        items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }],
        total: 100,
        placedAt: new Date().toISOString(),
      },
      { correlationId: orderId },
    );
    await admin.publish(DEFAULT_EXCHANGE, Queues.orderProcessing, task);

    // Then, after the delayed retries, the audit service has it with the reason orders gave
    const letter = await stored(task.messageId);
    expect(letter).toMatchObject({ queue: 'order-processing-dlq', type: 'order.place', correlationId: orderId });
    expect(letter.retryCount).toBe(3);
    expect(letter.reason).not.toBe('');
    expect(Date.parse(letter.lastFailedAt!)).toBeGreaterThan(Date.parse(letter.firstFailedAt!));
    const one = await http<DeadLetterView>('GET', audit(`/dead-letters/${letter.id}`));
    expect(one.body).toEqual(letter);
  });
});

describe('inspecting dead letters', () => {
  it('filters by queue, by either name, newest first', async () => {
    const byOriginal = await http<{ deadLetters: DeadLetterView[] }>(
      'GET',
      audit('/dead-letters?queue=order-processing'),
    );
    const byDlq = await http<{ deadLetters: DeadLetterView[] }>(
      'GET',
      audit('/dead-letters?queue=order-processing-dlq'),
    );
    expect(byOriginal.body.deadLetters.length).toBeGreaterThanOrEqual(4);
    expect(byOriginal.body).toEqual(byDlq.body);
    const ids = byOriginal.body.deadLetters.map((d) => d.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(byOriginal.body.deadLetters.map((d) => d.queue))).toEqual(new Set(['order-processing-dlq']));
  });

  it('answers 404 for an unknown id and 400 for bad input', async () => {
    expect((await http('GET', audit('/dead-letters/999999999'))).status).toBe(404);
    expect((await http('GET', audit('/dead-letters/abc'))).status).toBe(400);
    expect((await http('GET', audit('/dead-letters/99999999999999999999'))).status).toBe(400);
    expect((await http('GET', audit('/dead-letters?limit=0'))).status).toBe(400);
    expect((await http('GET', audit('/dead-letters?colour=red'))).status).toBe(400);
  });
});
