import { randomUUID } from 'node:crypto';
import type { Channel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendMail, type MailKind } from '@am/contracts';
import { AmqpClient, Exchanges, MailHeaders, Queues, UnroutableMessageError } from '@am/messaging';
import { testEnv } from '@am/testing';
import { mailHeaders, mailJob } from './mail-job.js';

// The `mail` headers exchange as the provisioner built it in this run's vhost, on the real broker: which lane a
// job lands in for its headers, published with the email service's own credentials (mandatory, with confirms, as
// the outbox relay publishes). Nothing consumes the lanes in this tier, so each job can be read back from its queue.
const env = testEnv();
let email: AmqpClient;
let admin: AmqpClient;
let channel: Channel;

beforeAll(async () => {
  email = new AmqpClient({ url: env.rabbitmqUrl('email'), connectionName: 'mail-routing.int.spec (email)' });
  admin = new AmqpClient({ url: env.adminAmqpUrl, connectionName: 'mail-routing.int.spec' });
  await Promise.all([email.connect(), admin.connect()]);
  channel = await admin.createChannel();
});

afterAll(async () => {
  await channel?.close().catch(() => undefined);
  await Promise.all([email?.close(), admin?.close()]);
});

function job(kind: MailKind): SendMail {
  const id = randomUUID();
  return mailJob({
    kind,
    dedupeKey: `${kind}:${id}`,
    to: { address: `${id}@example.com`, name: 'Ann' },
    subject: 'Hello',
    text: 'Hello Ann',
    messageId: `<${kind}.${id}@email.async-messaging.local>`,
    cause: { messageId: randomUUID(), type: 'test', correlationId: id },
  });
}

/** The message ids now in `queue`, taken off it (nothing else consumes the lanes in this tier). */
async function drain(queue: string): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const message = await channel.get(queue, { noAck: true });
    if (message === false) return ids;
    ids.push(String(message.properties.messageId));
  }
}

/** Publishes one job per header set as the email service, and says which lane(s) each landed in. */
async function lanesOf(headerSets: Record<string, string>[]): Promise<string[][]> {
  await Promise.all([drain(Queues.mailPriority), drain(Queues.mailBulk)]);
  const jobs = headerSets.map(() => job('welcome'));
  for (const [i, headers] of headerSets.entries()) await email.publish(Exchanges.mail, '', jobs[i]!, { headers });
  const priority = await drain(Queues.mailPriority);
  const bulk = await drain(Queues.mailBulk);
  return jobs.map((j) => [
    ...(priority.includes(j.messageId) ? [Queues.mailPriority] : []),
    ...(bulk.includes(j.messageId) ? [Queues.mailBulk] : []),
  ]);
}

describe('the mail headers exchange (routing by headers, on the broker)', () => {
  it('routes each kind of e-mail, with the headers the service gives it, to its lane', async () => {
    const kinds: MailKind[] = ['order-confirmed', 'order-cancelled', 'welcome'];
    expect(await lanesOf(kinds.map(mailHeaders))).toEqual([
      [Queues.mailPriority],
      [Queues.mailPriority],
      [Queues.mailBulk],
    ]);
  });

  it('matches the priority lane on any of its headers, the bulk lane only on all of them', async () => {
    const { kind, priority } = MailHeaders;
    expect(
      await lanesOf([
        // x-match any: the priority header alone, or the kind alone, is enough.
        { [priority]: 'high', [kind]: 'welcome' },
        { [priority]: 'bulk', [kind]: 'order-cancelled' },
        // x-match all: bulk, and of the kind welcome.
        { [priority]: 'bulk', [kind]: 'welcome' },
      ]),
    ).toEqual([[Queues.mailPriority], [Queues.mailPriority], [Queues.mailBulk]]);
  });

  it('loses no job whose headers match no binding: the alternate exchange puts it in the bulk lane', async () => {
    const { kind, priority } = MailHeaders;
    // No headers; an unknown priority; bulk, but of a kind the bulk binding does not name (all fails, any fails).
    const headerSets: Record<string, string>[] = [
      {},
      { [priority]: 'urgent', [kind]: 'welcome' },
      { [priority]: 'bulk', [kind]: 'order-confirmed' },
    ];
    expect(await lanesOf(headerSets)).toEqual([[Queues.mailBulk], [Queues.mailBulk], [Queues.mailBulk]]);
  });

  it('would return such a job to the publisher without the alternate exchange (mandatory)', async () => {
    // The same publish to a headers exchange with no alternate: the broker has nowhere to put it, and the client
    // hears so (as the outbox relay would, keeping the row); this is what the alternate exchange spares `mail`.
    const bare = `mail-routing-bare-${randomUUID()}`;
    await channel.assertExchange(bare, 'headers', { durable: false, autoDelete: true });
    try {
      await expect(admin.publish(bare, '', job('welcome'), { headers: { priority: 'bulk' } })).rejects.toBeInstanceOf(
        UnroutableMessageError,
      );
    } finally {
      await channel.deleteExchange(bare);
    }
  });
});
