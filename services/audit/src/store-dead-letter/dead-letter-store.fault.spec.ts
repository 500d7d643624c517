import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpClient, DEFAULT_EXCHANGE, Queues, deadLetterQueue } from '@am/messaging';
import { http, startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';
import type { DeadLetterView } from '../inspect-dead-letters/dead-letter.view.js';

// The audit service as a real process, with its database refusing to store dead letters of one queue for a
// while (a CHECK constraint added by the test as the PostgreSQL superuser). A dead letter must survive that:
// it is not acknowledged until it is stored.
let services: Record<string, ServiceProcess>;
let admin: AmqpClient;
let db: pg.Client;
const env = testEnv();
const queue = deadLetterQueue(Queues.paymentProcess);

beforeAll(async () => {
  services = await startServices(['audit']);
  admin = new AmqpClient({ url: env.adminAmqpUrl, connectionName: 'dead-letter-store.fault.spec' });
  await admin.connect();
  const url = new URL(env.postgresAdminUrl);
  url.pathname = `/${env.database('audit')}`;
  db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
});

afterAll(async () => {
  await db?.query('ALTER TABLE dead_letters DROP CONSTRAINT IF EXISTS refuse_for_test').catch(() => undefined);
  await db?.end();
  await admin?.close();
  await Promise.all(Object.values(services ?? {}).map((s) => s.stop()));
});

describe('storing dead letters while the database refuses them', () => {
  it('keeps the dead letter on its queue until the database takes it', async () => {
    // Given a database that refuses every dead letter of payment.process-dlq
    await db.query(`ALTER TABLE dead_letters ADD CONSTRAINT refuse_for_test CHECK (queue <> '${queue}') NOT VALID`);
    const messageId = randomUUID();
    await admin.publishRaw(DEFAULT_EXCHANGE, queue, Buffer.from('{"poison":true}'), { messageId });

    // When the store has failed past its in-place retries (200 ms + 1 s + 5 s) and the message went back
    await waitFor('the store to give up once', () => services.audit!.logs(200).includes('requeued'), {
      timeoutMs: 20_000,
    });
    const list = await http<{ deadLetters: DeadLetterView[] }>(
      'GET',
      `${services.audit!.url}/dead-letters?queue=${queue}`,
    );
    expect(list.body.deadLetters).toEqual([]);

    // Then, once the database takes dead letters again, it is stored: it was never acknowledged, never lost
    await db.query('ALTER TABLE dead_letters DROP CONSTRAINT refuse_for_test');
    const stored = await waitFor(
      'the dead letter to be stored',
      async () => {
        const got = await http<{ deadLetters: DeadLetterView[] }>(
          'GET',
          `${services.audit!.url}/dead-letters?queue=${queue}`,
        );
        return got.body.deadLetters.find((d) => d.messageId === messageId);
      },
      { timeoutMs: 20_000 },
    );
    expect(stored).toMatchObject({ content: '{"poison":true}' });
  });
});
