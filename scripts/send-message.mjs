// Sends a message straight to the order-processing queue, as RabbitMQ's administrator would: what a bug in a
// publisher or a redelivery looks like to the consumer. The tour (docs/tour.md) uses it to break things on purpose.
//
//   node scripts/send-message.mjs poison [CORRELATION_ID]
//       a task whose `total` is a string: the orders worker refuses it at once, without retries, and it goes to
//       order-processing.dlq with the reason (the audit service lists it)
//   node scripts/send-message.mjs place-order USER_ID SKU [TIMES]
//       one valid place-order task for one unit at 10.00, sent TIMES times (default 2) with the same message id:
//       a duplicate delivery; the inbox lets it have one effect
//
//   node scripts/send-message.mjs order-for-unknown-user
//       an order.confirmed on Kafka `order-events` for a user nobody registered: email's group order-notifications
//       fails on it past its retries (UnknownRecipientError) and it goes to order-events.dlt (the audit service
//       lists it); prints the user id and the order id
//   node scripts/send-message.mjs register USER_ID EMAIL
//       a user.registered for that user on `user-events`: the cause of the dead letter above, fixed (replay it next)
//
// Environment: RABBITMQ_ADMIN_URL (natively: the administrator of the `messaging` vhost, with the machine's password);
// KAFKA_BROKERS (127.0.0.1:9092), KAFKA_PREFIX and the Kafka administrator's login (the machine's, as for the
// provisioner).
import { randomUUID } from 'node:crypto';
import { OrderConfirmed, PlaceOrder, UserRegistered } from '@am/contracts';
import {
  AmqpClient,
  DEFAULT_EXCHANGE,
  Exchanges,
  KafkaClient,
  Queues,
  Topics,
  consoleLogger,
  kafkaAdminCredentials,
  nativePassword,
  recordFor,
} from '@am/messaging';

const [kind, ...args] = process.argv.slice(2);
const usage =
  'usage: node scripts/send-message.mjs poison [CORRELATION_ID] | place-order USER_ID SKU [TIMES] | ' +
  'order-for-unknown-user | register USER_ID EMAIL';
const adminUrl =
  process.env.RABBITMQ_ADMIN_URL ??
  `amqp://messaging-admin:${encodeURIComponent(nativePassword('rabbitmq', 'messaging-admin'))}@127.0.0.1:5672/messaging`;

function placeOrder(userId, sku, correlationId) {
  const orderId = randomUUID();
  const items = [{ sku, quantity: 1, unitPrice: 1_000 }];
  return PlaceOrder.create(
    { orderId, userId, items, total: 1_000, placedAt: new Date().toISOString() },
    { correlationId: correlationId ?? orderId },
  );
}

if (kind === 'order-for-unknown-user') {
  // Written as the Kafka administrator, as if orders had published it: the user is one nobody registered.
  const kafka = new KafkaClient({
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    clientId: 'send-message',
    credentials: kafkaAdminCredentials(),
    prefix: process.env.KAFKA_PREFIX ?? '',
    logger: { ...consoleLogger, info: () => undefined },
  });
  const userId = randomUUID();
  const orderId = randomUUID();
  const event = OrderConfirmed.create({ orderId, userId, total: 1_000 }, { correlationId: orderId });
  try {
    await kafka.send([recordFor(Topics.orderEvents, orderId, event)]);
  } finally {
    await kafka.close();
  }
  console.log(`sent order.confirmed for order ${orderId} of unknown user ${userId} to ${Topics.orderEvents}`);
  process.exit(0);
}

// Warnings and errors only: the script's output is the line it prints.
const client = new AmqpClient({
  url: adminUrl,
  connectionName: 'send-message',
  logger: { ...consoleLogger, info: () => undefined },
});
await client.connect();
try {
  if (kind === 'poison') {
    const task = placeOrder(randomUUID(), 'POISON', args[0]);
    const body = Buffer.from(JSON.stringify({ ...task, data: { ...task.data, total: 'ten euros' } }));
    await client.publishRaw(DEFAULT_EXCHANGE, Queues.orderProcessing, body, {
      messageId: task.messageId,
      type: task.type,
      correlationId: task.correlationId,
    });
    console.log(`sent a poison message to ${Queues.orderProcessing}, correlation id ${task.correlationId}`);
  } else if (kind === 'place-order' && args.length >= 2) {
    const [userId, sku, times = '2'] = args;
    const count = Number(times);
    if (!Number.isInteger(count) || count < 1 || count > 100) throw new Error(`TIMES must be 1 to 100: ${times}`);
    const task = placeOrder(userId, sku);
    for (let i = 0; i < count; i++) await client.publish(DEFAULT_EXCHANGE, Queues.orderProcessing, task);
    console.log(`sent order ${task.data.orderId} ${count} times, each with message id ${task.messageId}`);
  } else if (kind === 'register' && args.length === 2) {
    const [userId, email] = args;
    const event = UserRegistered.create(
      { userId, email, firstName: 'Replay', lastName: '', locale: 'en' },
      { correlationId: userId },
    );
    await client.publish(Exchanges.userEvents, '', event);
    console.log(`sent user.registered for user ${userId} <${email}> to ${Exchanges.userEvents}`);
  } else {
    console.error(usage);
    process.exitCode = 2;
  }
} finally {
  await client.close();
}
