import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserRegistered, UserRegisteredV1, type Envelope } from '@am/contracts';
import { AmqpClient, Exchanges, Queues, deadLetterQueue } from '@am/messaging';
import { http, startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';
import { SmtpSinkProcess } from '../../services/email/src/smtp-sink/smtp-sink.process.js';
import type { SinkMessage } from '../../services/email/src/smtp-sink/smtp-sink.server.js';

// user.registered v1 → v2 end to end (docs/schema-evolution.md). Every subscriber of the `user-events` fanout
// runs as a real process; the test publishes v1 and v2 side by side, as an old and a new producer would, and a
// v1 that was already waiting in the queues before the upgraded consumers started (the replay case).
let services: Record<string, ServiceProcess>;
let sink: SmtpSinkProcess;
let admin: AmqpClient;
const url = (service: string, path: string) => `${services[service]!.url}${path}`;

interface User {
  userId: string;
  email: string;
  firstName: string;
  fullName: string;
  locale: string;
}

const user = (firstName: string, lastName: string, locale: string): User => {
  const userId = randomUUID();
  const fullName = [firstName, lastName].filter(Boolean).join(' ');
  return { userId, email: `${userId}@example.com`, firstName, fullName, locale };
};
const asV1 = (u: User) =>
  UserRegisteredV1.create({ userId: u.userId, email: u.email, name: u.fullName }, { correlationId: u.userId });
const asV2 = (u: User) => {
  const [firstName, lastName] = [u.firstName, u.fullName.slice(u.firstName.length + 1)];
  return UserRegistered.create(
    { userId: u.userId, email: u.email, firstName, lastName, locale: u.locale },
    { correlationId: u.userId },
  );
};
const publish = (event: Envelope) => admin.publish(Exchanges.userEvents, '', event);

// Published before the services start: it waits in all four queues, like a v1 left over from before the upgrade.
const queuedBeforeUpgrade = user('Quinn', 'Old Queue', 'en');

beforeAll(async () => {
  admin = new AmqpClient({ url: testEnv().adminAmqpUrl, connectionName: 'schema-evolution.e2e.spec' });
  await admin.connect();
  await publish(asV1(queuedBeforeUpgrade));
  sink = await SmtpSinkProcess.start();
  services = await startServices(['orders', 'payments', 'email', 'analytics', 'audit'], {
    email: { SMTP_URL: sink.smtpUrl },
  });
});

afterAll(async () => {
  await admin?.close();
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
  await sink?.stop();
});

/** Checks what each subscriber of `user-events` did for a user, whichever version announced them. */
async function expectEverySubscriberHandled(u: User): Promise<void> {
  // email: the welcome e-mail, by first name, in the user's locale (v1: the `en` the upcaster supplies)
  const [mail] = await waitFor<SinkMessage[]>(`the welcome e-mail to ${u.email}`, async () => {
    const got = await sink.messages(u.email);
    return got.length > 0 ? got : undefined;
  });
  expect(mail!.subject).toBe(`Welcome to Async Shop, ${u.firstName}!`);
  expect(mail!.text).toMatch(new RegExp(`^Hello ${u.fullName},`));
  expect(mail!.headers['content-language']).toBe(u.locale);
  // payments: the account, with the full name
  const account = await waitFor(`the account of ${u.userId}`, async () => {
    const got = await http<{ name: string; isOpen: boolean }>('GET', url('payments', `/accounts/${u.userId}`));
    return got.status === 200 ? got.body : undefined;
  });
  expect(account).toMatchObject({ name: u.fullName, isOpen: true });
  // analytics: the user counted, once
  const db = new pg.Client({ connectionString: testEnv().databaseUrl('analytics') });
  await db.connect();
  try {
    await waitFor(`analytics to count ${u.userId}`, async () => {
      const rows = await db.query('SELECT 1 FROM registered_users WHERE user_id = $1', [u.userId]);
      return rows.rowCount === 1 || undefined;
    });
  } finally {
    await db.end();
  }
  // audit: the registration in the user's trail, in the v2 shape the handler saw
  const trail = await waitFor(`the audit trail of ${u.userId}`, async () => {
    const got = await http<{ entries: { type: string; version: number; data: Record<string, unknown> }[] }>(
      'GET',
      url('audit', `/audit?correlationId=${u.userId}`),
    );
    return got.body.entries.length > 0 ? got.body.entries : undefined;
  });
  expect(trail).toEqual([
    expect.objectContaining({
      type: 'user.registered',
      version: 2,
      data: expect.objectContaining({ userId: u.userId, firstName: u.firstName, locale: u.locale }) as unknown,
    }),
  ]);
}

describe('user.registered v1 and v2 side by side', () => {
  it('handles a v1 that was queued before the upgrade', async () => {
    await expectEverySubscriberHandled(queuedBeforeUpgrade);
  });

  it('handles v1 and v2 published together, with the same effects', async () => {
    const old = user('Ann', 'Lee', 'en');
    const current = user('Bo', 'Park', 'ko-KR');
    const mononym = user('Teller', '', 'en-US');
    await Promise.all([publish(asV1(old)), publish(asV2(current)), publish(asV2(mononym))]);
    await Promise.all([old, current, mononym].map(expectEverySubscriberHandled));
  });

  it('sends v2 from POST /users, for the {email, name} contract and for the new optional fields', async () => {
    const viaName = user('Cy', 'de la Cruz', 'en');
    const byName = await http<{ userId: string }>('POST', url('orders', '/users'), {
      email: viaName.email,
      name: viaName.fullName,
    });
    expect(byName.status).toBe(201);
    const viaParts = user('Dee', 'Ng', 'fr-CA');
    const byParts = await http<{ userId: string }>('POST', url('orders', '/users'), {
      email: viaParts.email,
      firstName: 'Dee',
      lastName: 'Ng',
      locale: 'fr-CA',
    });
    expect(byParts.status).toBe(201);
    await expectEverySubscriberHandled({ ...viaName, userId: byName.body.userId });
    await expectEverySubscriberHandled({ ...viaParts, userId: byParts.body.userId });
    const bad = await http<{ message: string[] }>('POST', url('orders', '/users'), {
      email: `${randomUUID()}@example.com`,
      locale: 'en',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message.join()).toMatch(/name: name or firstName is required/);
  });

  it('dead-letters an invalid message at every subscriber, with a reason that names the field', async () => {
    const u = user('Eve', '', 'en');
    const invalid = { ...asV1(u), data: { userId: u.userId, email: u.email, name: 42 } } as unknown as Envelope;
    await publish(invalid);
    const subscribers = [Queues.emailNotifications, Queues.analyticsTracking, Queues.auditLog, Queues.paymentsAccounts];
    const letters = await waitFor('the dead letter from all four queues in audit', async () => {
      const list = await http<{
        deadLetters: { queue: string; messageId: string; reason: string; retryCount: number }[];
      }>('GET', url('audit', '/dead-letters?limit=500'));
      const mine = list.body.deadLetters.filter((d) => d.messageId === invalid.messageId);
      return mine.length === subscribers.length ? mine : undefined;
    });
    expect(letters.map((d) => d.queue).sort()).toEqual(subscribers.map(deadLetterQueue).sort());
    for (const letter of letters) {
      expect(letter.reason).toMatch(/^InvalidMessageError: invalid user\.registered v1: data\.name: /);
      expect(letter.retryCount).toBe(0);
    }
    expect((await http('GET', url('payments', `/accounts/${u.userId}`))).status).toBe(404);
  });
});
