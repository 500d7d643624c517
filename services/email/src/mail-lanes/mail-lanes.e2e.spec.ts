import { randomUUID } from 'node:crypto';
import type { Channel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailKind } from '@am/contracts';
import { AmqpClient, Exchanges, Queues } from '@am/messaging';
import { startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';
import { SmtpSinkProcess } from '../smtp-sink/smtp-sink.process.js';
import { mailHeaders, mailJob } from './mail-job.js';

// The email service as a real process with its SMTP sender on both lanes of the `mail` headers exchange, sending
// to an smtp-sink child process. Jobs are planted on `mail` as the outbox relay publishes them (with headers).
let services: Record<string, ServiceProcess>;
let sink: SmtpSinkProcess;
let admin: AmqpClient;
let channel: Channel;

beforeAll(async () => {
  sink = await SmtpSinkProcess.start();
  services = await startServices(['email'], { email: { SMTP_URL: sink.smtpUrl } });
  admin = new AmqpClient({ url: testEnv().adminAmqpUrl, connectionName: 'mail-lanes.e2e.spec' });
  await admin.connect();
  channel = await admin.createChannel();
});

afterAll(async () => {
  await channel?.close().catch(() => undefined);
  await admin?.close();
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
  await sink?.stop();
});

/** Puts a `mail.send` job for `address` on the `mail` exchange, with the headers the service gives its kind. */
async function queueJob(kind: MailKind, address: string): Promise<string> {
  const id = randomUUID();
  await admin.publish(
    Exchanges.mail,
    '',
    mailJob({
      kind,
      dedupeKey: `${kind}:${id}`,
      to: { address, name: 'Ann' },
      subject: `${kind} ${id}`,
      text: 'Hello Ann',
      messageId: `<${kind}.${id}@email.async-messaging.local>`,
      cause: { messageId: randomUUID(), type: 'test', correlationId: id },
    }),
    { headers: mailHeaders(kind) },
  );
  return id;
}

/** `messages_consumed_total` of the email service for `mail-priority` and `mail-bulk`. */
async function consumed(): Promise<number[]> {
  const text = await (await fetch(`${services.email!.url}/metrics`)).text();
  return [Queues.mailPriority, Queues.mailBulk].map((queue) => {
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`messages_consumed_total{source="${queue}",service="email"} `));
    return line ? Number(line.split(' ')[1]) : 0;
  });
}

describe('the mail lanes (priority lanes on a headers exchange)', () => {
  it('sends an order e-mail queued behind a backlog of welcome e-mails before the backlog drains', async () => {
    const bulk = `${randomUUID()}@example.com`;
    const customer = `${randomUUID()}@example.com`;
    const backlog = 150;
    for (let i = 0; i < backlog; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, backlog - i) }, () => queueJob('welcome', bulk)));
    }
    await queueJob('order-confirmed', customer);
    await waitFor('the order e-mail', async () => (await sink.messages(customer)).length === 1, {
      timeoutMs: 15_000,
      intervalMs: 20,
    });
    // The moment it went out, most of the welcome e-mails queued before it were still waiting in their lane.
    const sentBefore = (await sink.messages(bulk)).length;
    const waiting = (await channel.checkQueue(Queues.mailBulk)).messageCount;
    expect(sentBefore).toBeLessThan(backlog / 2);
    expect(waiting).toBeGreaterThan(backlog / 2);
    // And the backlog does drain, one e-mail per job.
    await waitFor('the welcome backlog to drain', async () => (await sink.messages(bulk)).length >= backlog, {
      timeoutMs: 45_000,
      intervalMs: 200,
    });
    expect((await sink.messages(bulk)).length).toBe(backlog);
  });

  it('sends one e-mail for two jobs of the same fact, whichever lane each came through', async () => {
    const address = `${randomUUID()}@example.com`;
    const id = randomUUID();
    const job = (messageId: string) =>
      mailJob({
        kind: 'order-cancelled',
        dedupeKey: `order-cancelled:${id}`,
        to: { address, name: 'Cy' },
        subject: 'Your order was cancelled',
        text: 'Hello Cy',
        messageId: `<order-cancelled.${id}@email.async-messaging.local>`,
        cause: { messageId, type: 'order.cancelled', correlationId: id },
      });
    // One as the service sends it (priority lane), one with bulk headers for another kind: the alternate exchange
    // puts it in the bulk lane; the sent-mail log's dedupe key lets only one of them reach SMTP.
    const before = await consumed();
    await admin.publish(Exchanges.mail, '', job(randomUUID()), { headers: mailHeaders('order-cancelled') });
    await admin.publish(Exchanges.mail, '', job(randomUUID()), { headers: { priority: 'bulk', kind: 'other' } });
    await waitFor('each lane to handle its job', async () => {
      const now = await consumed();
      return now.every((n, i) => n >= before[i]! + 1);
    });
    expect(await sink.messages(address)).toHaveLength(1);
  });
});
