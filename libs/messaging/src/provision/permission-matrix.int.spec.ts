import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pool, purgeRunQueues, testEnv } from '@am/testing';
import {
  DEFAULT_EXCHANGE,
  Exchanges,
  Queues,
  SERVICES,
  allQueueNames,
  deadLetterQueue,
  exchanges,
  failureExchanges,
  queryExchanges,
  queryQueues,
  queues,
  replyQueueName,
  requesters,
  retryQueue,
  type ServiceName,
} from '../topology.js';

// The permission matrix, generated from the topology and tried on the real broker (this run's vhost): for every
// service user and every exchange and queue, publishing, consuming and declaring are tried, and exactly what the
// design allows succeeds. The expectations come from the topology itself (who publishes to which exchange, who
// consumes which queue), not from the permission strings the provisioner computes from it, so a wrong regular
// expression in `permissionsFor` or `topicPermissionsFor` shows up here as a cell that differs.
const env = testEnv();
const connections = new Map<ServiceName, amqp.ChannelModel>();

beforeAll(async () => {
  for (const service of SERVICES) {
    const connection = await amqp.connect(env.rabbitmqUrl(service));
    connection.on('error', () => undefined);
    connections.set(service, connection);
  }
});

afterAll(async () => {
  for (const connection of connections.values()) await connection.close().catch(() => undefined);
  // The publishes the design allows put messages in this run's queues.
  await purgeRunQueues(env);
});

/** Runs `operation` on a fresh channel of `service`: 'allowed', or 'refused' when the broker says ACCESS_REFUSED. */
async function attempt(
  service: ServiceName,
  operation: (channel: amqp.ConfirmChannel) => Promise<unknown>,
): Promise<'allowed' | 'refused'> {
  const channel = await connections.get(service)!.createConfirmChannel();
  let refusal = '';
  channel.on('error', (error: Error) => (refusal = error.message));
  try {
    await operation(channel);
    await channel.close();
    return 'allowed';
  } catch (error) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const reason = refusal || (error as Error).message;
    if (/ACCESS_REFUSED/.test(reason)) return 'refused';
    throw new Error(`${service}: not a refusal: ${reason}`);
  }
}

/** Every cell that differs from the design, as `service operation target: got, design says`. */
async function differences(
  cells: {
    service: ServiceName;
    target: string;
    allowed: boolean;
    run: (c: amqp.ConfirmChannel) => Promise<unknown>;
  }[],
  operation: string,
): Promise<string[]> {
  // Each cell on a channel of its own, a dozen at a time: a refusal closes only its channel.
  const got = await pool(cells.length, 12, (i) => attempt(cells[i]!.service, cells[i]!.run));
  return cells.flatMap((cell, i) => {
    const want = cell.allowed ? 'allowed' : 'refused';
    return got[i] === want ? [] : [`${cell.service} ${operation} ${cell.target}: ${got[i]}, the design says ${want}`];
  });
}

const everyExchange = [...exchanges, ...failureExchanges, ...queryExchanges];
/** Every durable queue the provisioner makes: the topology's with their retry and dead letter queues, the query queues. */
const everyQueue = [...allQueueNames(), ...queryQueues.map((q) => q.name)];
/** A reply queue name of each requesting service (request/reply), as one of its processes would name it. */
const replyQueues = requesters().map((service) => ({ service, name: replyQueueName(service, randomUUID()) }));

describe('the RabbitMQ permission matrix of the service users, from the topology, on the broker', () => {
  it('consume: each service reads exactly the queues it consumes (audit also every dead letter queue)', async () => {
    const reads = (service: ServiceName, queue: string) =>
      [...queues, ...queryQueues].some((q) => q.name === queue && q.consumer === service) ||
      (service === 'audit' && queues.some((q) => deadLetterQueue(q.name) === queue));
    const cells = SERVICES.flatMap((service) =>
      everyQueue.map((queue) => ({
        service,
        target: queue,
        allowed: reads(service, queue),
        // basic.get needs read permission, as basic.consume does, and takes nothing from an empty queue.
        run: (c: amqp.ConfirmChannel) => c.get(queue, { noAck: false }).then((m) => m && c.nack(m, false, true)),
      })),
    );
    expect(cells.length).toBe(SERVICES.length * everyQueue.length);
    expect(cells.filter((c) => c.allowed).length).toBeGreaterThan(SERVICES.length);
    expect(await differences(cells, 'consume')).toEqual([]);
  });

  it('publish: each service writes exactly the exchanges it publishes to, and on retries and dead-letters only its own queues', async () => {
    const keyFor = (exchange: string): string[] => {
      if (exchange === Exchanges.retries) return queues.map((q) => retryQueue(q.name, 1));
      if (exchange === Exchanges.deadLetters) return queues.map((q) => deadLetterQueue(q.name));
      // A responder answers to a requester's reply queue, and only there (topic permissions).
      if (exchange === Exchanges.replies) return [...replyQueues.map((r) => r.name), Queues.orderProcessing];
      const bound = [...queues, ...queryQueues].flatMap((q) =>
        q.bindings.filter((b) => b.exchange === exchange).map((b) => b.routingKey),
      );
      return [bound[0] ?? (exchange === Exchanges.replays ? queues[0]!.name : '')];
    };
    const owner = (key: string) =>
      queues.find((q) => retryQueue(q.name, 1) === key || deadLetterQueue(q.name) === key)?.consumer;
    const cells = SERVICES.flatMap((service) => [
      // The default exchange: no service, whatever the queue.
      ...[...queues, ...queryQueues, ...replyQueues].map((q) => ({
        service,
        target: `(default exchange) → ${q.name}`,
        allowed: false,
        run: (c: amqp.ConfirmChannel) => publish(c, DEFAULT_EXCHANGE, q.name),
      })),
      ...everyExchange.flatMap((exchange) =>
        keyFor(exchange.name).map((key) => ({
          service,
          target: `${exchange.name} → ${key || '(fanout)'}`,
          allowed:
            exchange.publishers.includes(service) &&
            (exchange.name === Exchanges.replies
              ? replyQueues.some((r) => r.name === key)
              : exchange.name !== Exchanges.retries && exchange.name !== Exchanges.deadLetters
                ? true
                : owner(key) === service),
          run: (c: amqp.ConfirmChannel) => publish(c, exchange.name, key),
        })),
      ),
    ]);
    expect(cells.filter((c) => c.allowed).length).toBeGreaterThan(SERVICES.length);
    expect(await differences(cells, 'publish')).toEqual([]);
  });

  it('configure: no service declares anything but its own reply queues, not even what exists as declared', async () => {
    const cells = SERVICES.flatMap((service) => [
      // Each process of a requesting service declares its reply queue (exclusive, auto-delete): only that.
      ...replyQueues.map((reply) => ({
        service,
        target: `reply queue ${reply.name}`,
        allowed: reply.service === service,
        run: (c: amqp.ConfirmChannel) =>
          c.assertQueue(reply.name.replace(/[0-9a-f-]+$/, randomUUID()), {
            exclusive: true,
            autoDelete: true,
            durable: false,
          }),
      })),
      ...everyQueue.map((queue) => ({
        service,
        target: `queue ${queue}`,
        allowed: false,
        run: (c: amqp.ConfirmChannel) => c.assertQueue(queue, { durable: true }),
      })),
      ...everyExchange.map((exchange) => ({
        service,
        target: `exchange ${exchange.name}`,
        allowed: false,
        run: (c: amqp.ConfirmChannel) => c.assertExchange(exchange.name, exchange.type, { durable: true }),
      })),
    ]);
    expect(await differences(cells, 'configure')).toEqual([]);
  });
});

/** One persistent message, confirmed by the broker (a refusal closes the channel instead). */
async function publish(channel: amqp.ConfirmChannel, exchange: string, routingKey: string): Promise<void> {
  channel.publish(exchange, routingKey, Buffer.from('{"matrix":true}'), { persistent: true, expiration: '60000' });
  await channel.waitForConfirms();
}
