import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InventoryReserved, PaymentCompleted, type Envelope } from '@am/contracts';
import { testEnv, waitFor } from '@am/testing';
import { silentLogger } from '../logger.js';
import { Exchanges, Queues, RetryHeaders, SAGA_REPLY_KEY, deadLetterQueue } from '../index.js';
import { AmqpClient } from './amqp-client.js';
import { AmqpConsumer } from './amqp-consumer.js';
import { defineSubscription } from './amqp-subscription.js';

// Pattern: validated sender, on the real broker (this run's vhost). RabbitMQ checks the AMQP `user-id` property
// against the connection's user, so it names the account that really sent a message; the consumer refuses a message
// its sender may not send. The forgery of issue 14: inventory's credentials reporting a payment to the saga.
const env = testEnv();
let inventory: AmqpClient;
let consumerClient: AmqpClient;
let consumer: AmqpConsumer;
const handled: Envelope[] = [];

beforeAll(async () => {
  inventory = new AmqpClient({
    url: env.rabbitmqUrl('inventory'),
    connectionName: 'sender.int inventory',
    logger: silentLogger,
  });
  await inventory.connect();
  consumerClient = new AmqpClient({
    url: env.rabbitmqUrl('orders'),
    connectionName: 'sender.int orders',
    logger: silentLogger,
  });
  await consumerClient.connect();
  consumer = new AmqpConsumer(
    consumerClient,
    defineSubscription({ queue: Queues.sagaReplies, retryDelaysMs: [50] }),
    async (message) => {
      handled.push(JSON.parse(message.content.toString()) as Envelope);
    },
    { logger: silentLogger },
  );
  await consumerClient.addChannelUser(consumer);
});

afterAll(async () => {
  await consumer?.stop();
  await inventory?.close();
  await consumerClient?.close();
});

describe('the sender of a message (AMQP user-id)', () => {
  it('is checked by RabbitMQ: a publish claiming another user-id closes the channel', async () => {
    const connection = await amqp.connect(env.rabbitmqUrl('inventory'));
    const channel = await connection.createConfirmChannel();
    let closedWith = '';
    channel.on('error', (error: Error) => (closedWith = error.message));
    const outcome = await new Promise<string>((resolve) => {
      channel.publish(Exchanges.sagaReplies, SAGA_REPLY_KEY, Buffer.from('{}'), { userId: 'payments' }, (error) =>
        resolve(error ? 'refused' : 'accepted'),
      );
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await connection.close().catch(() => undefined);
    expect(outcome).toBe('refused');
    expect(closedWith).toMatch(/PRECONDITION_FAILED.*user_id/i);
  });

  it("dead-letters a reply its sender may not send (inventory reporting a payment) and handles inventory's own", async () => {
    const sagaId = randomUUID();
    const orderId = randomUUID();
    const forged = PaymentCompleted.create({ sagaId, orderId, amount: 100_000 }, { correlationId: orderId });
    const genuine = InventoryReserved.create({ sagaId, orderId }, { correlationId: orderId });
    expect(inventory.user).toBe('inventory');
    await inventory.publish(Exchanges.sagaReplies, SAGA_REPLY_KEY, forged);
    await inventory.publish(Exchanges.sagaReplies, SAGA_REPLY_KEY, genuine);
    await waitFor('the genuine reply', () => handled.some((m) => m.messageId === genuine.messageId), {
      timeoutMs: 15_000,
    });

    // The forged one is on the dead letter queue, with the reason and no retry: it was never handled.
    const admin = await amqp.connect(env.adminAmqpUrl);
    const channel = await admin.createChannel();
    let letter: amqp.GetMessage | false = false;
    await waitFor(
      'the forged reply on saga-replies-dlq',
      async () => {
        for (;;) {
          const got = await channel.get(deadLetterQueue(Queues.sagaReplies), { noAck: false });
          if (!got) return false;
          if (got.properties.messageId === forged.messageId) {
            channel.ack(got);
            letter = got;
            return true;
          }
          channel.nack(got, false, true);
          return false;
        }
      },
      { timeoutMs: 15_000 },
    );
    await admin.close();
    const headers = (letter as unknown as amqp.GetMessage).properties.headers ?? {};
    expect(String(headers[RetryHeaders.error])).toContain(
      `sender inventory may not send payment.completed to ${Queues.sagaReplies}`,
    );
    expect(headers[RetryHeaders.retryCount]).toBe(0);
    expect(handled.map((m) => m.messageId)).not.toContain(forged.messageId);
  });
});
