import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Email } from '../emails/email.js';
import { EmailHeaders, MailSender } from '../smtp/mail-sender.js';
import { SmtpSinkClient } from './smtp-sink.process.js';
import { startSmtpSink, type RunningSmtpSink } from './smtp-sink.server.js';

// The sink in this process on free ports, and the service's real nodemailer sender talking SMTP to it.
let sink: RunningSmtpSink;
let client: SmtpSinkClient;
let sender: MailSender;

const email = (address: string, n = 1): Email => ({
  kind: 'welcome',
  dedupeKey: `welcome:user-${n}`,
  to: { address, name: 'Ann' },
  subject: `Welcome ${n}`,
  text: 'Hello Ann,\n\nwelcome.\n',
  messageId: `<welcome.user-${n}@email.async-messaging.local>`,
  cause: { messageId: `event-${n}`, type: 'user.registered', correlationId: `corr-${n}` },
});

beforeAll(async () => {
  sink = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
  client = new SmtpSinkClient(sink.apiUrl);
  sender = new MailSender({ url: sink.smtpUrl, from: { address: 'shop@example.com', name: 'Shop' }, timeoutMs: 5_000 });
});

afterAll(async () => {
  sender?.onModuleDestroy();
  await sink?.close();
});

beforeEach(async () => {
  await client.clear();
  await client.failNext(0);
});

describe('smtp-sink', () => {
  it('keeps what it receives and shows it over HTTP with the Message-ID and event headers', async () => {
    await sender.send(email('ann@example.com'));
    const [message, ...more] = await client.messages();
    expect(more).toEqual([]);
    expect(message).toMatchObject({
      messageId: '<welcome.user-1@email.async-messaging.local>',
      envelope: { from: 'shop@example.com', to: ['ann@example.com'] },
      subject: 'Welcome 1',
      text: 'Hello Ann,\n\nwelcome.\n',
    });
    expect(message?.headers[EmailHeaders.eventId.toLowerCase()]).toBe('event-1');
    expect(message?.headers[EmailHeaders.kind.toLowerCase()]).toBe('welcome');
  });

  it('filters by recipient, whatever the case of the address', async () => {
    await sender.send(email('ann@example.com', 1));
    await sender.send(email('bob@example.com', 2));
    expect((await client.messages('ANN@example.com')).map((m) => m.subject)).toEqual(['Welcome 1']);
    expect(await client.messages()).toHaveLength(2);
  });

  it('answers the next N deliveries with 451 when told to fail, then accepts again', async () => {
    await client.failNext(2);
    for (let i = 0; i < 2; i++) {
      await expect(sender.send(email('ann@example.com'))).rejects.toMatchObject({ responseCode: 451 });
    }
    await sender.send(email('ann@example.com'));
    expect(await client.messages()).toHaveLength(1);
    expect(await client.stats()).toMatchObject({ failNext: 0 });
  });

  it("fails the next deliveries to one address only, and leaves everyone else's mail alone", async () => {
    const failedBefore = (await client.stats()).failed;
    await client.failNext(2, 'Ann@Example.com');
    await sender.send(email('bob@example.com', 1));
    for (let i = 0; i < 2; i++) {
      await expect(sender.send(email('ann@example.com', 2))).rejects.toMatchObject({ responseCode: 451 });
      await sender.send(email('bob@example.com', 3 + i));
    }
    await sender.send(email('ann@example.com', 2));
    expect((await client.messages('ann@example.com')).map((m) => m.subject)).toEqual(['Welcome 2']);
    expect(await client.messages('bob@example.com')).toHaveLength(3);
    expect(await client.stats()).toMatchObject({ failed: failedBefore + 2, failNext: 0, failNextFor: {} });
  });

  it('forgets everything on DELETE /messages and refuses a bad /fail body', async () => {
    await sender.send(email('ann@example.com'));
    await client.clear();
    expect(await client.messages()).toEqual([]);
    for (const body of ['{"count":-1}', '{"count":1,"to":"not an address"}', '{"count":1,"to":7}', 'nonsense']) {
      const bad = await fetch(`${sink.apiUrl}/fail`, { method: 'POST', body });
      expect(bad.status, body).toBe(400);
    }
    expect(await client.stats()).toMatchObject({ failNext: 0, failNextFor: {} });
  });
});
