import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnv, waitFor } from '@am/testing';

// Why the project has no RabbitMQ direct reply-to (docs/request-reply.md), on the real broker (this run's vhost):
// the reply must be published to the default exchange, and write permission on the default exchange is write
// permission on every queue of the vhost, which no service has (docs/security.md). The same exchange of messages
// works for an account that has it.
const env = testEnv();
let requester: amqp.ChannelModel;
let channel: amqp.Channel;
let requestQueue: string;
const replies: string[] = [];

beforeAll(async () => {
  // The requester: consumes the pseudo-queue amq.rabbitmq.reply-to (no queue to declare or to permit) and sends a
  // request whose reply-to the broker rewrites into a name that routes straight back to this consumer.
  requester = await amqp.connect(env.adminAmqpUrl);
  channel = await requester.createChannel();
  requestQueue = (await channel.assertQueue('', { exclusive: true })).queue;
  await channel.consume('amq.rabbitmq.reply-to', (m) => m && replies.push(m.content.toString()), { noAck: true });
});

afterAll(async () => {
  await requester.close().catch(() => undefined);
});

/** Sends a request and returns the reply-to name the server side sees. */
async function request(body: string): Promise<string> {
  channel.sendToQueue(requestQueue, Buffer.from(body), { replyTo: 'amq.rabbitmq.reply-to' });
  const message = await waitFor(
    'the request',
    async () => (await channel.get(requestQueue, { noAck: true })) || false,
    {
      timeoutMs: 5_000,
      intervalMs: 20,
    },
  );
  expect(message.properties.replyTo).toMatch(/^amq\.rabbitmq\.reply-to\./);
  return message.properties.replyTo as string;
}

/** Replies as `url`'s user: the reply goes to the default exchange, routing key the reply-to name. */
async function replyAs(url: string, replyTo: string, body: string): Promise<string> {
  const connection = await amqp.connect(url);
  try {
    const responder = await connection.createChannel();
    const closed = new Promise<string>((resolve) => responder.on('error', (e: Error) => resolve(e.message)));
    responder.on('close', () => undefined);
    responder.publish('', replyTo, Buffer.from(body));
    return await Promise.race([closed, new Promise<string>((r) => setTimeout(() => r('published'), 1_000))]);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

describe('RabbitMQ direct reply-to under least privilege', () => {
  it('is refused to a service: replying needs write on the default exchange, which no service has', async () => {
    const replyTo = await request('stock of SKU-1?');
    const outcome = await replyAs(env.rabbitmqUrl('inventory'), replyTo, 'in stock');
    expect(outcome).toMatch(/ACCESS_REFUSED.*amq\.default/);
    await new Promise((r) => setTimeout(r, 300));
    expect(replies).not.toContain('in stock');
  });

  it('works for an account with that permission (the admin), which shows only the permission is missing', async () => {
    const replyTo = await request('stock of SKU-2?');
    expect(await replyAs(env.adminAmqpUrl, replyTo, 'two left')).toBe('published');
    await waitFor('the reply', () => replies.includes('two left'), { timeoutMs: 5_000, intervalMs: 20 });
  });
});
