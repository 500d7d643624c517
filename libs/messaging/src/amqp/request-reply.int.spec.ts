import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckStock,
  MessageCatalog,
  StockChecked,
  causedBy,
  type CheckStock as CheckStockMessage,
} from '@am/contracts';
import { testEnv, waitFor } from '@am/testing';
import { silentLogger } from '../logger.js';
import type { MessagingMetrics } from '../metrics.js';
import { Exchanges, Queues, replyQueuePattern } from '../topology.js';
import { AmqpClient } from './amqp-client.js';
import { AmqpRequester, AmqpResponder, RequestTimeoutError } from './request-reply.js';

// Request/reply on the real broker (this run's vhost), with the services' own accounts: orders asks on `queries`
// and waits on its process's reply queue, inventory answers through `replies` (docs/request-reply.md).
const env = testEnv();
const clients: AmqpClient[] = [];
let responder: AmqpResponder | undefined;

/** What a requester or responder reported, by metric. */
function recorder() {
  const seen = { dropped: [] as string[], timedOut: [] as string[], failed: 0, answered: 0 };
  const metrics: MessagingMetrics = {
    consumed: () => void (seen.answered += 1),
    failed: () => void (seen.failed += 1),
    retried: () => undefined,
    deadLettered: () => undefined,
    published: () => undefined,
    replyDropped: (reason) => void seen.dropped.push(reason),
    requestTimedOut: (destination) => void seen.timedOut.push(destination),
  };
  return { seen, metrics };
}

async function connect(url: string, name: string): Promise<AmqpClient> {
  const client = new AmqpClient({ url, connectionName: name, logger: silentLogger });
  await client.connect();
  clients.push(client);
  return client;
}

async function requesterProcess(metrics?: MessagingMetrics): Promise<AmqpRequester> {
  const client = await connect(env.rabbitmqUrl('orders'), 'request-reply.int.spec orders');
  const requester = new AmqpRequester(client, { service: 'orders', logger: silentLogger, metrics });
  await client.addChannelUser(requester);
  return requester;
}

/** Inventory answering with `available` for every SKU, after `delayMs`. */
async function startResponder(available: number, delayMs = 0, metrics?: MessagingMetrics): Promise<AmqpResponder> {
  const client = await connect(env.rabbitmqUrl('inventory'), 'request-reply.int.spec inventory');
  responder = new AmqpResponder(
    client,
    { queue: Queues.inventoryQueries, prefetch: 20, catalog: new MessageCatalog([CheckStock]) },
    async (request) => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const { sku, quantity } = (request as CheckStockMessage).data;
      return StockChecked.create({ sku, quantity, available, enough: available >= quantity }, causedBy(request));
    },
    { logger: silentLogger, metrics },
  );
  await client.addChannelUser(responder);
  return responder;
}

const ask = (sku: string, quantity = 1) => {
  const id = randomUUID();
  return CheckStock.create({ sku, quantity }, { messageId: id, correlationId: id });
};

let admin: AmqpClient;

beforeAll(async () => {
  admin = await connect(env.adminAmqpUrl, 'request-reply.int.spec admin');
});

afterEach(async () => {
  await responder?.stop();
  responder = undefined;
  const channel = await admin.createChannel();
  await channel.purgeQueue(Queues.inventoryQueries);
  await channel.close();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

describe('request/reply over RabbitMQ under least privilege', () => {
  it("answers a request on the requester's own reply queue, from inventory's account", async () => {
    const requester = await requesterProcess();
    expect(requester.replyQueue).toMatch(new RegExp(replyQueuePattern('orders')));
    await startResponder(7);
    const request = ask('SKU-RR-1', 5);
    const reply = await requester.request(Queues.inventoryQueries, request, StockChecked, 5_000);
    expect(reply.data).toEqual({ sku: 'SKU-RR-1', quantity: 5, available: 7, enough: true });
    expect(reply.correlationId).toBe(request.correlationId);
    expect(reply.causationId).toBe(request.messageId);
  });

  it('gives each of two processes of one service its own answers, and drops none', async () => {
    const one = recorder();
    const two = recorder();
    const first = await requesterProcess(one.metrics);
    const second = await requesterProcess(two.metrics);
    expect(first.replyQueue).not.toBe(second.replyQueue);
    await startResponder(10);
    const asks = Array.from({ length: 40 }, (_, i) => ({ requester: i % 2 ? second : first, quantity: i + 1 }));
    const replies = await Promise.all(
      asks.map(({ requester, quantity }) =>
        requester.request(Queues.inventoryQueries, ask(`SKU-RR-2-${quantity}`, quantity), StockChecked, 5_000),
      ),
    );
    replies.forEach((reply, i) => {
      expect(reply.data.quantity).toBe(i + 1);
      expect(reply.data.sku).toBe(`SKU-RR-2-${i + 1}`);
      expect(reply.data.enough).toBe(i + 1 <= 10);
    });
    expect([...one.seen.dropped, ...two.seen.dropped]).toEqual([]);
  });

  it('fails at the timeout when nobody answers, and the request expires in its queue instead of waiting', async () => {
    const { seen, metrics } = recorder();
    const requester = await requesterProcess(metrics);
    const started = Date.now();
    const error = await requester
      .request(Queues.inventoryQueries, ask('SKU-RR-3'), StockChecked, 300)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(seen.timedOut).toEqual([Queues.inventoryQueries]);
    // Its TTL was the timeout: the broker drops it, so a responder that comes back does not answer a caller gone.
    const channel = await admin.createChannel();
    await waitFor(
      'the request to expire',
      async () => (await channel.checkQueue(Queues.inventoryQueries)).messageCount === 0,
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    await channel.close();
    const late = recorder();
    await startResponder(1, 0, late.metrics);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(late.seen.answered).toBe(0);
  });

  it('drops and counts a reply that comes after the timeout', async () => {
    const { seen, metrics } = recorder();
    const requester = await requesterProcess(metrics);
    await startResponder(3, 600);
    await expect(requester.request(Queues.inventoryQueries, ask('SKU-RR-4'), StockChecked, 200)).rejects.toThrow(
      RequestTimeoutError,
    );
    await waitFor('the late reply to be dropped', () => seen.dropped.includes('late'), { timeoutMs: 5_000 });
    expect(seen.dropped).toEqual(['late']);
  });

  it('drops a reply from an account that is not the responder, and a request from one that may not ask', async () => {
    const { seen, metrics } = recorder();
    const requester = await requesterProcess(metrics);
    const request = ask('SKU-RR-5');
    const pending = requester.request(Queues.inventoryQueries, request, StockChecked, 5_000);
    // The admin (who may publish anywhere) answers with the pending request's correlation id before inventory
    // does: refused by the requester, which then still gets inventory's answer.
    const forged = StockChecked.create(
      { sku: 'SKU-RR-5', quantity: 1, available: 999, enough: true },
      causedBy(request),
    );
    await admin.publish(Exchanges.replies, requester.replyQueue, forged);
    await waitFor('the forged reply to be dropped', () => seen.dropped.includes('sender'), { timeoutMs: 5_000 });
    const answers = recorder();
    await startResponder(4, 0, answers.metrics);
    expect((await pending).data.available).toBe(4);
    // A request the admin sends is not a requester's: dropped unanswered.
    await admin.publish(Exchanges.queries, Queues.inventoryQueries, ask('SKU-RR-6'), {
      replyTo: requester.replyQueue,
    });
    await waitFor('the request to be dropped', () => answers.seen.failed === 1, { timeoutMs: 5_000 });
    expect(answers.seen.answered).toBe(1);
  });
});
