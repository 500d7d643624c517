import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Exchanges, Queues } from '@am/messaging';
import { http, startServices, testEnv, waitFor, type ServiceProcess } from '@am/testing';

// Publish/subscribe: one user.registered reaches every queue bound to the user-events fanout, including a
// subscriber added while the producer runs. Only orders runs here, so each subscriber queue keeps its copy.
let services: Record<string, ServiceProcess>;
let connection: amqp.ChannelModel;
let channel: amqp.Channel;
const subscribers = [Queues.emailNotifications, Queues.analyticsTracking, Queues.auditLog, Queues.paymentsAccounts];

beforeAll(async () => {
  services = await startServices(['orders']);
  connection = await amqp.connect(testEnv().adminAmqpUrl);
  channel = await connection.createChannel();
  for (const queue of subscribers) await channel.purgeQueue(queue);
});

afterAll(async () => {
  await connection?.close();
  await services?.orders?.stop();
});

describe('the user-events fanout', () => {
  it('gives every subscriber its own copy, and a subscriber added later needs no change in the producer', async () => {
    // A new subscriber appears while orders is already running: a queue of its own, bound to the exchange.
    const newcomer = `late-subscriber-${randomUUID().slice(0, 8)}`;
    await channel.assertQueue(newcomer, { durable: false, autoDelete: true });
    await channel.bindQueue(newcomer, Exchanges.userEvents, '');

    const email = `${randomUUID()}@example.com`;
    const user = await http<{ userId: string }>('POST', `${services.orders!.url}/users`, { email, name: 'Ann Lee' });
    expect(user.status).toBe(201);

    const copy = await waitFor(
      'the new subscriber to get the event',
      async () => (await channel.get(newcomer, { noAck: true })) || undefined,
    );
    const event = JSON.parse(copy.content.toString()) as { type: string; data: { userId: string; email: string } };
    expect(event).toMatchObject({ type: 'user.registered', data: { userId: user.body.userId, email } });
    for (const queue of subscribers) {
      const { messageCount } = await channel.checkQueue(queue);
      expect(messageCount, queue).toBe(1);
    }
    await channel.deleteQueue(newcomer);
    for (const queue of subscribers) await channel.purgeQueue(queue);
  });
});
