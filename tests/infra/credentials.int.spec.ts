// The native stack's credentials (docs/security.md): every password is this machine's secret, generated once and
// kept outside the checkout; the `-dev` defaults of the first version open nothing any more, and the project's
// PostgreSQL roles authenticate with scram-sha-256 although the machine trusts 127.0.0.1 for every other role.
// The infrastructure this run uses was set up by infra/up (./stack test runs it first), so this checks what it left.
import { statSync } from 'node:fs';
import path from 'node:path';
import amqp from 'amqplib';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { SERVICES, nativePassword, secretsDir } from '@am/messaging';
import { testEnv } from '@am/testing';

/** A guessable password of the kind a project ships as a default (compose once had `<service>-dev`). */
const guessable = (service: string) => `${service}-dev`;

const env = testEnv();

/** 'accepted', or the server's refusal. */
async function pgLogin(user: string, password: string | undefined): Promise<string> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: 5432,
    user,
    database: user,
    ...(password === undefined ? {} : { password }),
  });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return 'accepted';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function amqpLogin(user: string, password: string): Promise<string> {
  try {
    const connection = await amqp.connect(`amqp://${user}:${password}@127.0.0.1:5672/${encodeURIComponent(env.vhost)}`);
    await connection.close();
    return 'accepted';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('the native stack credentials', () => {
  it.each(SERVICES)(
    'PostgreSQL: %s logs in with its machine secret, not with the old -dev password nor none',
    async (s) => {
      expect(await pgLogin(s, nativePassword('postgres', s))).toBe('accepted');
      expect(await pgLogin(s, guessable(s))).toMatch(/password authentication failed/);
      // No password at all: the project's scram-sha-256 line comes before the machine's trust rule.
      expect(await pgLogin(s, undefined)).not.toBe('accepted');
    },
  );

  it.each(SERVICES)('RabbitMQ: %s logs in with its machine secret, not with the old -dev password', async (s) => {
    expect(await amqpLogin(s, nativePassword('rabbitmq', s))).toBe('accepted');
    expect(await amqpLogin(s, guessable(s))).toMatch(/ACCESS_REFUSED|403/);
  });

  it('RabbitMQ: the admin answers the management API with its machine secret only', async () => {
    const status = async (password: string) =>
      (
        await fetch(`${env.admin.managementUrl}/api/whoami`, {
          headers: { authorization: `Basic ${Buffer.from(`messaging-admin:${password}`).toString('base64')}` },
        })
      ).status;
    expect(await status(nativePassword('rabbitmq', 'messaging-admin'))).toBe(200);
    expect(await status('messaging-admin-dev')).toBe(401);
  });

  it('keeps the secrets outside the checkout, readable by their owner only', () => {
    const dir = secretsDir();
    expect(path.relative(path.resolve(__dirname, '../..'), dir).startsWith('..')).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const name of ['postgres-orders', 'rabbitmq-orders', 'rabbitmq-messaging-admin', 'kafka-orders']) {
      expect(statSync(path.join(dir, name)).mode & 0o777, name).toBe(0o600);
    }
  });
});
