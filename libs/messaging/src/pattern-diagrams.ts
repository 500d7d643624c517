import { DEFAULT_RETRY_DELAYS_MS } from './amqp/amqp-subscription.js';
import {
  Exchanges,
  MAX_RETRIES,
  Queues,
  Topics,
  bindingLabel,
  deadLetterQueue,
  exchanges,
  failureExchanges,
  queryExchanges,
  queryQueues,
  queues,
  replyQueueName,
  retryQueue,
  topics,
  type QueueSpec,
} from './topology.js';

/**
 * A sequence diagram per messaging pattern, as Mermaid, generated from `topology.ts` (which service publishes to
 * which exchange, which queues are bound, which groups read a topic) so the pictures in the pattern pages name the
 * real exchanges, queues, topics and groups, and cannot drift: tests/docs/diagrams.unit.spec.ts checks the pages.
 */

const alias = (name: string) => name.replace(/[^a-zA-Z0-9]/g, '_');
const participant = (name: string, label = name) => `  participant ${alias(name)} as ${label}`;
const exchangeOf = (name: string) => {
  const exchange = [...exchanges, ...failureExchanges].find((e) => e.name === name);
  if (!exchange) throw new Error(`no exchange ${name} in the topology`);
  return exchange;
};
const queueOf = (name: string): QueueSpec => {
  const queue = queues.find((q) => q.name === name);
  if (!queue) throw new Error(`no queue ${name} in the topology`);
  return queue;
};
const topicOf = (name: string) => {
  const topic = topics.find((t) => t.name === name);
  if (!topic) throw new Error(`no topic ${name} in the topology`);
  return topic;
};
const seconds = (ms: number) => `${ms / 1000} s`;

/** Load leveling: the HTTP intake publishes a task and answers at once; the workers drain at their own pace. */
export function taskQueueSequence(): string {
  const queue = queueOf(Queues.orderProcessing);
  const exchange = exchangeOf(queue.bindings[0]!.exchange);
  const publisher = exchange.publishers[0]!;
  return [
    'sequenceDiagram',
    '  actor client',
    participant(`${publisher}-http`, `${publisher} (HTTP intake)`),
    participant(exchange.name, `${exchange.name} (${exchange.type})`),
    participant(queue.name, `${queue.name} (queue, max-length ${queue.maxLength ?? 'none'}, reject-publish)`),
    participant(`${queue.consumer}-worker`, `${queue.consumer} (worker)`),
    `  client->>${alias(`${publisher}-http`)}: POST /orders`,
    `  ${alias(`${publisher}-http`)}->>${alias(exchange.name)}: publish (persistent, routing key ${queue.bindings[0]!.routingKey})`,
    `  ${alias(exchange.name)}->>${alias(queue.name)}: route`,
    `  ${alias(queue.name)}-->>${alias(`${publisher}-http`)}: publisher confirm (nack when the queue is full)`,
    `  ${alias(`${publisher}-http`)}-->>client: 202 Accepted (503 with Retry-After when refused)`,
    `  Note over ${alias(queue.name)}: a burst waits here`,
    `  loop at the workers' pace (prefetch)`,
    `    ${alias(queue.name)}->>${alias(`${queue.consumer}-worker`)}: deliver`,
    `    ${alias(`${queue.consumer}-worker`)}->>${alias(queue.name)}: ack after the work is committed`,
    '  end',
  ].join('\n');
}

/** Publish/subscribe on RabbitMQ: one publish, a copy in every bound queue, each subscriber at its own pace. */
export function fanoutSequence(exchangeName: string = Exchanges.userEvents): string {
  const exchange = exchangeOf(exchangeName);
  const bound = queues.filter((q) => q.bindings.some((b) => b.exchange === exchange.name));
  const lines = [
    'sequenceDiagram',
    ...exchange.publishers.map((p) => participant(p)),
    participant(exchange.name, `${exchange.name} (${exchange.type})`),
    ...bound.map((q) => participant(q.name, `${q.name} (queue)`)),
    ...[...new Set(bound.map((q) => q.consumer))]
      .filter((c) => !exchange.publishers.includes(c))
      .map((c) => participant(c)),
  ];
  for (const publisher of exchange.publishers) {
    lines.push(`  ${alias(publisher)}->>${alias(exchange.name)}: publish once (from the outbox)`);
  }
  lines.push(`  par a copy per bound queue`);
  bound.forEach((q, i) => {
    if (i > 0) lines.push('  and');
    lines.push(`    ${alias(exchange.name)}->>${alias(q.name)}: copy`);
    lines.push(`    ${alias(q.name)}->>${alias(q.consumer)}: deliver`);
    lines.push(`    ${alias(q.consumer)}->>${alias(q.name)}: ack`);
  });
  lines.push('  end');
  return lines.join('\n');
}

/**
 * Routing by headers: jobs on a headers exchange land in the queue whose binding their headers match, and what no
 * binding matches goes through the exchange's alternate exchange; one consumer takes every lane at its own pace.
 */
export function headersRoutingSequence(exchangeName: string = Exchanges.mail): string {
  const exchange = exchangeOf(exchangeName);
  const bound = queues.filter((q) => q.bindings.some((b) => b.exchange === exchange.name && b.headers));
  const alternate = exchange.alternateExchange;
  const consumers = [...new Set(bound.map((q) => q.consumer))];
  const worker = (service: string) => `${service}-sender`;
  const lines = [
    'sequenceDiagram',
    ...exchange.publishers.map((p) => participant(p)),
    participant(exchange.name, `${exchange.name} (${exchange.type})`),
    ...(alternate ? [participant(alternate, `${alternate} (${exchangeOf(alternate).type}, alternate)`)] : []),
    ...bound.map((q) => participant(q.name, `${q.name} (queue)`)),
    ...consumers.map((c) => participant(worker(c), `${c} (a consumer per queue)`)),
  ];
  for (const queue of bound) {
    for (const binding of queue.bindings.filter((b) => b.exchange === exchange.name && b.headers)) {
      const { match, headers } = binding.headers!;
      const wanted = Object.entries(headers).map(([name, value]) => `${name}=${value}`);
      for (const publisher of exchange.publishers) {
        const which = wanted.join(match === 'any' ? ' or ' : ' and ');
        lines.push(`  ${alias(publisher)}->>${alias(exchange.name)}: job with headers ${which}`);
      }
      lines.push(`  ${alias(exchange.name)}->>${alias(queue.name)}: ${bindingLabel(binding)}`);
    }
  }
  const fallback = alternate && bound.find((q) => q.bindings.some((b) => b.exchange === alternate));
  if (alternate && fallback) {
    for (const publisher of exchange.publishers) {
      lines.push(`  ${alias(publisher)}->>${alias(exchange.name)}: job whose headers match no binding`);
    }
    lines.push(`  ${alias(exchange.name)}->>${alias(alternate)}: unrouted: to the alternate exchange`);
    lines.push(`  ${alias(alternate)}->>${alias(fallback.name)}: copy`);
  }
  lines.push('  par each queue at its own prefetch');
  bound.forEach((q, i) => {
    if (i > 0) lines.push('  and');
    lines.push(`    ${alias(q.name)}->>${alias(worker(q.consumer))}: deliver`);
    lines.push(`    ${alias(worker(q.consumer))}->>${alias(q.name)}: ack`);
  });
  lines.push('  end');
  return lines.join('\n');
}

/** Consumer groups: one log, each group reads all of it at its own offset; a group's members share the partitions. */
export function consumerGroupsSequence(topicName: string = Topics.orderEvents): string {
  const topic = topicOf(topicName);
  const lines = [
    'sequenceDiagram',
    ...topic.producers.map((p) => participant(p)),
    participant(topic.name, `${topic.name} (${topic.partitions} partitions)`),
    ...topic.groups.map((g) => participant(`group-${g.groupId}`, `${g.consumer} (group ${g.groupId})`)),
  ];
  for (const producer of topic.producers) {
    lines.push(`  ${alias(producer)}->>${alias(topic.name)}: append (key = order id: one partition per order)`);
  }
  lines.push(`  par every group reads every record`);
  topic.groups.forEach((g, i) => {
    if (i > 0) lines.push('  and');
    lines.push(`    ${alias(topic.name)}->>${alias(`group-${g.groupId}`)}: fetch from the group's offset`);
    lines.push(`    ${alias(`group-${g.groupId}`)}->>${alias(topic.name)}: commit the next offset`);
  });
  lines.push('  end');
  lines.push(`  Note over ${alias(topic.name)}: records stay after they are read: a group can replay from offset 0`);
  return lines.join('\n');
}

/** Retries with backoff and the dead letter queue, for one queue of the topology. */
export function retrySequence(
  queueName: string = Queues.paymentProcess,
  delaysMs: readonly number[] = DEFAULT_RETRY_DELAYS_MS,
): string {
  const queue = queueOf(queueName);
  const consumer = queue.consumer;
  const dlq = deadLetterQueue(queue.name);
  const lines = [
    'sequenceDiagram',
    participant(queue.name, `${queue.name} (queue)`),
    participant(consumer),
    participant(Exchanges.retries, `${Exchanges.retries} (${exchangeOf(Exchanges.retries).type})`),
    participant('retry-queues', `${retryQueue(queue.name, 1)} … ${retryQueue(queue.name, MAX_RETRIES)} (TTL)`),
    participant(Exchanges.deadLetters, `${Exchanges.deadLetters} (${exchangeOf(Exchanges.deadLetters).type})`),
    participant(dlq, `${dlq} (queue)`),
    participant('audit'),
    `  ${alias(queue.name)}->>${consumer}: deliver`,
    `  ${consumer}-->>${consumer}: a transient failure`,
  ];
  for (let attempt = 1; attempt <= MAX_RETRIES; attempt++) {
    const retry = retryQueue(queue.name, attempt);
    const delay = delaysMs[Math.min(attempt, delaysMs.length) - 1]!;
    lines.push(
      `  ${consumer}->>${alias(Exchanges.retries)}: publish a copy, x-retry-count ${attempt} (routing key ${retry})`,
      `  ${consumer}->>${alias(queue.name)}: ack the original`,
      `  ${alias(Exchanges.retries)}->>retry_queues: ${retry}`,
      `  Note over retry_queues: waits ${seconds(delay)} (per-message TTL)`,
      `  retry_queues->>${alias(queue.name)}: expired: back through the default exchange (a policy)`,
      `  ${alias(queue.name)}->>${consumer}: deliver again`,
    );
  }
  lines.push(
    `  ${consumer}->>${alias(Exchanges.deadLetters)}: failed ${MAX_RETRIES + 1} times (or a permanent error at once): publish with the reason`,
    `  ${consumer}->>${alias(queue.name)}: ack the original`,
    `  ${alias(Exchanges.deadLetters)}->>${alias(dlq)}: ${dlq}`,
    `  ${alias(dlq)}->>audit: deliver: stored with its reason, replayable through ${Exchanges.replays}`,
  );
  return lines.join('\n');
}

/** The transactional outbox: the state change and the message commit together; a relay publishes afterwards. */
export function outboxSequence(): string {
  const exchange = exchangeOf(Exchanges.userEvents);
  const service = exchange.publishers[0]!;
  return [
    'sequenceDiagram',
    '  actor client',
    participant(service, `${service} (handler)`),
    participant('db', `${service} database`),
    participant('relay', `${service} (outbox relay)`),
    participant(exchange.name, `${exchange.name} (${exchange.type})`),
    `  client->>${alias(service)}: POST /users`,
    `  ${alias(service)}->>db: one transaction: INSERT the user, INSERT the message into outbox, COMMIT`,
    `  ${alias(service)}-->>client: 201 (the message is as durable as the user)`,
    '  db-->>relay: the commit hands the new rows to the relay of the same process (no trigger, no NOTIFY)',
    `  relay->>${alias(exchange.name)}: publish them`,
    `  ${alias(exchange.name)}-->>relay: publisher confirms`,
    '  relay->>db: mark them sent (one statement, no transaction open while the broker answers)',
    '  loop every 0.5 s: the safety net',
    '    relay->>db: claim rows older than 2 s that nobody sent (SKIP LOCKED, named by session)',
    `    relay->>${alias(exchange.name)}: publish, confirm, mark sent`,
    '  end',
    '  Note over relay: a crash between publish and "sent" publishes again: the consumers\' inbox drops the copy',
  ].join('\n');
}

/** The inbox: the message id is recorded in the same transaction as the effect, so a redelivery has none. */
export function inboxSequence(queueName: string = Queues.paymentProcess): string {
  const queue = queueOf(queueName);
  return [
    'sequenceDiagram',
    participant(queue.name, `${queue.name} (queue)`),
    participant(queue.consumer),
    participant('db', `${queue.consumer} database`),
    `  ${alias(queue.name)}->>${queue.consumer}: deliver message m1`,
    `  ${queue.consumer}->>db: one transaction: record (${queue.consumer}, m1) in processed_messages, apply the effect, COMMIT`,
    `  ${queue.consumer}->>${alias(queue.name)}: ack`,
    `  Note over ${alias(queue.name)},${queue.consumer}: the ack is lost (connection dropped): the broker redelivers`,
    `  ${alias(queue.name)}->>${queue.consumer}: deliver m1 again (redelivered)`,
    `  ${queue.consumer}->>db: one transaction: record (${queue.consumer}, m1) is already there, so no effect`,
    `  ${queue.consumer}->>${alias(queue.name)}: ack the duplicate (logged at debug with its id)`,
    `  Note over ${queue.consumer},db: an effect that fails rolls its row back with it: the retry runs the effect`,
  ].join('\n');
}

/** Exactly once inside Kafka: read, produce and commit the offsets in one transaction. */
export function exactlyOnceSequence(): string {
  const input = topicOf(Topics.orderEvents);
  const output = topicOf(Topics.orderMetrics);
  const group = input.groups.find((g) => g.groupId === 'order-metrics');
  if (!group) throw new Error('no order-metrics group on order-events');
  const consumer = `${group.consumer} (group ${group.groupId}, transactional producer)`;
  return [
    'sequenceDiagram',
    participant(input.name, `${input.name}`),
    participant('metrics-loop', consumer),
    participant(output.name, `${output.name}`),
    participant('reader', 'a read_committed reader'),
    `  ${alias(input.name)}->>metrics_loop: fetch a batch (isolation read_committed)`,
    '  metrics_loop->>metrics_loop: fold the batch into per-minute deltas',
    `  metrics_loop->>${alias(output.name)}: begin a transaction, produce the deltas`,
    `  metrics_loop->>${alias(output.name)}: commit the batch's offsets to the group in the same transaction`,
    `  metrics_loop->>${alias(output.name)}: commit: the deltas and the offsets together, or neither`,
    `  ${alias(output.name)}->>reader: only committed deltas are visible`,
    '  Note over metrics_loop: killed between produce and commit: the records are aborted, the batch is read again',
  ].join('\n');
}

/**
 * Request/reply under least privilege: the request goes through `queries` to the responder's queue with `reply-to`,
 * a correlation id and a TTL equal to the timeout; the answer goes through `replies` to the asking process's own
 * reply queue; a late answer is dropped.
 */
export function requestReplySequence(queueName: string = Queues.inventoryQueries): string {
  const queue = queryQueues.find((q) => q.name === queueName);
  if (!queue) throw new Error(`no query queue ${queueName} in the topology`);
  const queries = queryExchanges.find((e) => e.name === queue.bindings[0]!.exchange)!;
  const replies = queryExchanges.find((e) => e.name === Exchanges.replies)!;
  const requester = queries.publishers[0]!;
  const replyQueue = replyQueueName(requester, '{instance}');
  const [c, r, q, qq, s, x, rq] = [
    'client',
    `${requester}-http`,
    queries.name,
    queue.name,
    queue.consumer,
    replies.name,
    'reply-queue',
  ].map(alias) as [string, string, string, string, string, string, string];
  return [
    'sequenceDiagram',
    '  actor client',
    participant(`${requester}-http`, `${requester} (one process)`),
    participant(queries.name, `${queries.name} (${queries.type})`),
    participant(queue.name, `${queue.name} (queue)`),
    participant(queue.consumer),
    participant(replies.name, `${replies.name} (${replies.type})`),
    participant('reply-queue', `${replyQueue} (exclusive, auto-delete)`),
    `  Note over ${r},${rq}: at start: declare its reply queue, bind it to ${replies.name} under its name, consume`,
    `  ${c}->>${r}: GET /availability/:sku?quantity=N`,
    `  ${r}->>${q}: request (reply-to ${replyQueue}, correlation id, expiration = timeout)`,
    `  ${q}->>${qq}: route (key ${queue.bindings[0]!.routingKey})`,
    `  ${qq}->>${s}: deliver`,
    `  ${s}->>${x}: answer (same correlation id, user-id ${queue.consumer}, key = reply-to)`,
    `  ${x}->>${rq}: route`,
    `  ${rq}->>${r}: deliver: pending request found, sender checked`,
    `  ${r}-->>${c}: 200 {sku, quantity, available, enough}`,
    `  alt no answer within the timeout`,
    `    ${r}-->>${c}: 504 (the request expires in ${queue.name}, a later answer is dropped and counted)`,
    '  end',
  ].join('\n');
}

/**
 * Ordering and what breaks it: a queue's retry puts a message behind the ones published after it; a Kafka consumer
 * retries in place, so a key's records keep their order and the partition waits.
 */
export function orderingSequence(
  queueName: string = Queues.orderProcessing,
  topicName: string = Topics.orderEvents,
  delaysMs: readonly number[] = DEFAULT_RETRY_DELAYS_MS,
): string {
  const queue = queueOf(queueName);
  const topic = topicOf(topicName);
  const group = topic.groups[0]!;
  const retry = retryQueue(queue.name, 1);
  const worker = `${queue.consumer}-worker`;
  const reader = `${group.consumer}-${group.groupId}`;
  return [
    'sequenceDiagram',
    participant(queue.name, `${queue.name} (queue)`),
    participant(worker, `${queue.consumer} (one consumer, prefetch 1)`),
    participant(retry, `${retry} (TTL ${seconds(delaysMs[0]!)})`),
    participant(topic.name, `${topic.name} partition 0 (one key)`),
    participant(reader, `${group.consumer} (group ${group.groupId})`),
    `  Note over ${alias(queue.name)}: m1, m2, m3 published in that order`,
    `  ${alias(queue.name)}->>${alias(worker)}: m1: handled`,
    `  ${alias(queue.name)}->>${alias(worker)}: m2: fails`,
    `  ${alias(worker)}->>${alias(retry)}: m2 waits out its delay`,
    `  ${alias(queue.name)}->>${alias(worker)}: m3: handled before m2`,
    `  ${alias(retry)}->>${alias(queue.name)}: m2 back at the tail`,
    `  ${alias(queue.name)}->>${alias(worker)}: m2: handled last (the retry reordered it)`,
    `  Note over ${alias(topic.name)}: r1, r2, r3 of one key, in offset order`,
    `  ${alias(topic.name)}->>${alias(reader)}: r1: handled`,
    `  ${alias(topic.name)}->>${alias(reader)}: r2: fails`,
    `  ${alias(reader)}-->>${alias(reader)}: retries r2 in place: the partition waits`,
    `  ${alias(reader)}-->>${alias(topic.name)}: r2 handled, offset committed`,
    `  ${alias(topic.name)}->>${alias(reader)}: r3: handled after r2 (the order holds)`,
  ].join('\n');
}
