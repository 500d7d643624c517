import { describe, expect, it } from 'vitest';
import type { Email } from '../emails/email.js';
import type { MailTransport } from '../smtp/mail-sender.js';
import { sendEmailOnce } from './send-email-once.js';

const email: Email = {
  kind: 'welcome',
  dedupeKey: 'welcome:user-1',
  to: { address: 'ann@example.com', name: 'Ann' },
  subject: 'Welcome',
  text: 'Hello',
  messageId: '<welcome.user-1@email.async-messaging.local>',
  cause: { messageId: 'm-1', type: 'user.registered', correlationId: 'c-1' },
};

/** A stand-in for the transaction: `sent_emails` as a set of keys, and the order things happened in. */
function world(taken: string[] = []) {
  const keys = new Set(taken);
  const log: string[] = [];
  const manager = {
    query: (_sql: string, params: unknown[]): Promise<unknown[]> => {
      const key = String(params[0]);
      log.push(`claim ${key}`);
      if (keys.has(key)) return Promise.resolve([]);
      keys.add(key);
      return Promise.resolve([{ id: 1 }]);
    },
  } as { query: <T>(sql: string, params: unknown[]) => Promise<T> };
  const transport = (fail?: Error): MailTransport => ({
    send: (sent) => {
      log.push(`send ${sent.messageId}`);
      return fail ? Promise.reject(fail) : Promise.resolve();
    },
  });
  return { manager, transport, log };
}

describe('sending an e-mail once', () => {
  it('claims the key first, then sends', async () => {
    const { manager, transport, log } = world();
    expect(await sendEmailOnce(manager, transport(), email)).toBe('sent');
    expect(log).toEqual(['claim welcome:user-1', 'send <welcome.user-1@email.async-messaging.local>']);
  });

  it('sends nothing when the key was taken by an earlier delivery', async () => {
    const { manager, transport, log } = world(['welcome:user-1']);
    expect(await sendEmailOnce(manager, transport(), email)).toBe('already-sent');
    expect(log).toEqual(['claim welcome:user-1']);
  });

  it('lets an SMTP failure through, so the transaction rolls back and the message is retried', async () => {
    const { manager, transport } = world();
    const failure = new Error('451 temporary failure');
    await expect(sendEmailOnce(manager, transport(failure), email)).rejects.toBe(failure);
  });
});
