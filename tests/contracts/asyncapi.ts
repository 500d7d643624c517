import { z } from 'zod';
import { format, resolveConfig } from 'prettier';
import { stringify } from 'yaml';
import {
  CheckStock,
  OrderMetricsRecordSchema,
  PlaceOrder,
  StockChecked,
  accountEventMessages,
  mailCommands,
  operatorEvents,
  allMessages,
  inventoryReplies,
  orderEvents,
  orderFlowEvents,
  paymentReplies,
  sagaCommands,
  userEvents,
  type MessageDefinition,
} from '@am/contracts';
import {
  Exchanges,
  SERVICES,
  MAX_RETRIES,
  bindingLabel,
  Topics,
  deadLetterQueue,
  exchanges,
  queryExchanges,
  queryQueues,
  queues,
  replyQueueName,
  requesters,
  topics,
  type ServiceName,
} from '@am/messaging';
import { ROOT, type Consumption } from './consumers.js';

/** Where asyncapi.yaml lives, and the command that writes it. */
export const ASYNCAPI_FILE = `${ROOT}asyncapi.yaml`;
export const REGENERATE = 'npm run asyncapi';

/**
 * What each service sends where. Consumers are derived from the code (`loadConsumptions`); producers are declared
 * here, and the test checks them against the topology's publishers and against every consumer.
 */
export interface Production {
  service: ServiceName;
  channel: string;
  kind: 'exchange' | 'queue' | 'topic';
  messages: readonly MessageDefinition[];
}

export const productions: Production[] = [
  { service: 'orders', kind: 'exchange', channel: Exchanges.userEvents, messages: userEvents },
  { service: 'orders', kind: 'exchange', channel: Exchanges.orderTasks, messages: [PlaceOrder] },
  { service: 'orders', kind: 'exchange', channel: Exchanges.sagaCommands, messages: sagaCommands },
  { service: 'inventory', kind: 'exchange', channel: Exchanges.sagaReplies, messages: inventoryReplies },
  { service: 'payments', kind: 'exchange', channel: Exchanges.sagaReplies, messages: paymentReplies },
  // The choreographed order flow (docs/choreography.md): each service announces its own events.
  { service: 'orders', kind: 'exchange', channel: Exchanges.orderFlow, messages: orderFlowEvents },
  { service: 'inventory', kind: 'exchange', channel: Exchanges.orderFlow, messages: inventoryReplies },
  { service: 'payments', kind: 'exchange', channel: Exchanges.orderFlow, messages: paymentReplies },
  { service: 'orders', kind: 'topic', channel: Topics.orderEvents, messages: orderEvents },
  { service: 'payments', kind: 'topic', channel: Topics.accountEvents, messages: accountEventMessages },
  // Request/reply (docs/request-reply.md): the request through `queries`, the answer through `replies`.
  { service: 'orders', kind: 'exchange', channel: Exchanges.queries, messages: [CheckStock] },
  { service: 'inventory', kind: 'exchange', channel: Exchanges.replies, messages: [StockChecked] },
  { service: 'email', kind: 'exchange', channel: Exchanges.mail, messages: mailCommands },
  // The audit trail of operators' actions: every service records what an operator does to it.
  ...SERVICES.map((service) => ({
    service,
    kind: 'exchange' as const,
    channel: Exchanges.operatorActions,
    messages: operatorEvents,
  })),
];

/** Readers that are not envelope subscriptions: analytics' exactly-once loop reads `order-events` itself. */
export const otherConsumers = [
  { service: 'analytics', channel: Topics.orderEvents, group: 'order-metrics', messages: orderEvents },
] as const;

const ORDER_METRICS_RECORD = 'order-metrics.record';

type Json = Record<string, unknown>;
const ref = (path: string) => ({ $ref: `#/${path}` });
const messageId = (d: MessageDefinition) => `${d.type}.v${d.version}`;
/** Channel and operation ids allow letters, digits, `-` and `_` only. */
const idOf = (...parts: string[]) => parts.join('_').replace(/[^A-Za-z0-9_-]/g, '-');
/** A definition and the older versions it still reads. */
const allVersions = (d: MessageDefinition) => [...d.olderVersions, d];
const uniqueById = (list: MessageDefinition[]) => [...new Map(list.map((d) => [messageId(d), d])).values()];

/** The AsyncAPI 3 document of the whole system, from libs/contracts and libs/messaging's topology. */
export function buildAsyncApi(consumptions: readonly Consumption[]): Json {
  const consumed = (channel: string) =>
    consumptions.filter((c) => c.channel === channel).flatMap((c) => c.catalog.definitions().flatMap(allVersions));
  const produced = (channel: string) =>
    productions.filter((p) => p.channel === channel).flatMap((p) => p.messages.flatMap(allVersions));

  const channels: Json = {};
  const channelMessages = new Map<string, MessageDefinition[]>();
  const addChannel = (id: string, address: string, description: string, messages: MessageDefinition[], extra: Json) => {
    const sorted = uniqueById(messages).sort((a, b) => messageId(a).localeCompare(messageId(b)));
    channelMessages.set(id, sorted);
    channels[id] = {
      address,
      description,
      messages: Object.fromEntries(sorted.map((d) => [messageId(d), ref(`components/messages/${messageId(d)}`)])),
      ...extra,
    };
  };
  const amqpServer = { servers: [ref('servers/rabbitmq')] };
  const kafkaServer = { servers: [ref('servers/kafka')] };

  // A requester's reply queue, one per process: its address has the process's instance id as a parameter.
  const replyChannels = requesters().map((service) => ({
    service,
    id: idOf('queue', service, 'replies'),
    address: replyQueueName(service, '{instanceId}'),
  }));
  for (const exchange of [...exchanges, ...queryExchanges]) {
    const bound = [...queues, ...queryQueues].filter((q) => q.bindings.some((b) => b.exchange === exchange.name));
    const boundTo =
      exchange.name === Exchanges.replies
        ? `the reply queue of each requesting process (${replyChannels.map((r) => r.address).join(', ')}), under its name`
        : bound.map((q) => q.name).join(', ');
    addChannel(
      idOf('exchange', exchange.name),
      exchange.name,
      `RabbitMQ ${exchange.type} exchange, ${
        exchange.publishers.length > 0
          ? `published to by ${exchange.publishers.join(', ')}`
          : `internal: only the broker routes into it (the alternate exchange of ${exchanges
              .filter((e) => e.alternateExchange === exchange.name)
              .map((e) => e.name)
              .join(', ')})`
      }${
        exchange.alternateExchange ? `, what no binding matches going on to ${exchange.alternateExchange}` : ''
      }; bound to ${boundTo}.`,
      [...produced(exchange.name), ...bound.flatMap((q) => consumed(q.name))],
      {
        ...amqpServer,
        bindings: {
          amqp: {
            is: 'routingKey',
            exchange: { name: exchange.name, type: exchange.type, durable: true, autoDelete: false, vhost: '/' },
            bindingVersion: '0.3.0',
          },
        },
      },
    );
  }
  const queueBinding = (name: string) => ({
    amqp: {
      is: 'queue',
      queue: { name, durable: true, exclusive: false, autoDelete: false, vhost: '/' },
      bindingVersion: '0.3.0',
    },
  });
  for (const queue of queues) {
    const from = queue.bindings.map((b) =>
      b.headers ? `${b.exchange} (headers, ${bindingLabel(b)})` : `${b.exchange} (routing key '${b.routingKey}')`,
    );
    addChannel(
      idOf('queue', queue.name),
      queue.name,
      `RabbitMQ queue consumed by ${queue.consumer}, fed by ${from.join(' and ')}. A failed message is retried ` +
        `through ${queue.name}-retry-1..${MAX_RETRIES} (delay queues, fed by the retries exchange), then goes to ` +
        `${deadLetterQueue(queue.name)} (through the dead-letters exchange).`,
      consumed(queue.name),
      { ...amqpServer, bindings: queueBinding(queue.name) },
    );
    const dlq = deadLetterQueue(queue.name);
    addChannel(
      idOf('queue', dlq),
      dlq,
      `Dead letter queue of ${queue.name}, consumed raw by audit: a message as it failed (possibly not a valid ` +
        'envelope), with the reason in the x-error header and its retries in x-retry-count.',
      consumed(queue.name),
      { ...amqpServer, bindings: queueBinding(dlq) },
    );
  }
  for (const queue of queryQueues) {
    addChannel(
      idOf('queue', queue.name),
      queue.name,
      `RabbitMQ request queue consumed by ${queue.consumer}, fed by ${queue.bindings
        .map((b) => `${b.exchange} (routing key '${b.routingKey}')`)
        .join(' and ')}. Each request carries reply-to, a correlation id and a TTL equal to its caller's timeout; ` +
        'no retry or dead letter queue: a request nobody answered in time expires.',
      queue.bindings.flatMap((b) => produced(b.exchange)),
      { ...amqpServer, bindings: queueBinding(queue.name) },
    );
  }
  for (const reply of replyChannels) {
    addChannel(
      reply.id,
      reply.address,
      `The reply queue of one ${reply.service} process (exclusive, auto-delete, declared by the process), bound to ` +
        `${Exchanges.replies} under its own name.`,
      produced(Exchanges.replies),
      {
        ...amqpServer,
        parameters: { instanceId: { description: `A UUID made by each ${reply.service} process at start.` } },
      },
    );
  }
  for (const topic of topics) {
    const isMetrics = topic.name === Topics.orderMetrics;
    const source = topic.name === Topics.orderEventsDeadLetters ? Topics.orderEvents : topic.name;
    const messages = [...produced(source), ...consumed(source)];
    const description =
      topic.name === Topics.orderEventsDeadLetters
        ? `Kafka dead letter topic of ${Topics.orderEvents}: records that kept failing, as they were, with the error in their headers.`
        : isMetrics
          ? 'Kafka topic of per-minute order metrics, produced by analytics in one transaction with its consumed offsets; plain records, not envelopes, keyed by minute.'
          : `Kafka topic of ${productions.find((p) => p.channel === topic.name)?.service ?? '?'} events, keyed by aggregate id; headers event-type, correlation-id, message-id, traceparent.`;
    addChannel(idOf('topic', topic.name), topic.name, description, messages, {
      ...kafkaServer,
      bindings: { kafka: { topic: topic.name, partitions: topic.partitions, bindingVersion: '0.5.0' } },
    });
    if (isMetrics) {
      (channels[idOf('topic', topic.name)] as Json).messages = {
        [ORDER_METRICS_RECORD]: ref(`components/messages/${ORDER_METRICS_RECORD}`),
      };
    }
  }

  const operations: Json = {};
  const channelRef = (id: string, messages: readonly MessageDefinition[] | 'record') => ({
    channel: ref(`channels/${id}`),
    messages:
      messages === 'record'
        ? [ref(`channels/${id}/messages/${ORDER_METRICS_RECORD}`)]
        : uniqueById([...messages])
            .sort((a, b) => messageId(a).localeCompare(messageId(b)))
            .map((d) => ref(`channels/${id}/messages/${messageId(d)}`)),
  });
  for (const p of productions) {
    const id = idOf(p.kind === 'topic' ? 'topic' : p.kind, p.channel);
    const reply = p.channel === Exchanges.queries ? replyChannels.find((r) => r.service === p.service) : undefined;
    operations[idOf(p.service, 'sends', p.channel)] = {
      action: 'send',
      summary: `${p.service} sends ${p.messages.map((d) => d.type).join(', ')}`,
      ...channelRef(id, p.messages),
      ...(reply
        ? {
            reply: {
              address: { location: '$message.header#/reply_to' },
              ...channelRef(reply.id, produced(Exchanges.replies)),
            },
          }
        : {}),
    };
  }
  for (const queue of queryQueues) {
    operations[idOf(queue.consumer, 'receives', queue.name)] = {
      action: 'receive',
      summary: `${queue.consumer} answers the requests of ${queue.name} through ${Exchanges.replies}`,
      ...channelRef(
        idOf('queue', queue.name),
        queue.bindings.flatMap((b) => produced(b.exchange)),
      ),
    };
  }
  for (const reply of replyChannels) {
    operations[idOf(reply.service, 'receives', 'replies')] = {
      action: 'receive',
      summary: `${reply.service} takes the answers to its requests; a late, unknown or forged one is dropped`,
      ...channelRef(reply.id, produced(Exchanges.replies)),
    };
  }
  operations[idOf('analytics', 'sends', Topics.orderMetrics)] = {
    action: 'send',
    summary: 'analytics produces per-minute order metrics (exactly-once loop)',
    ...channelRef(idOf('topic', Topics.orderMetrics), 'record'),
  };
  const receivers = [
    ...consumptions.map((c) => ({ ...c, messages: c.catalog.definitions().flatMap(allVersions) })),
    ...otherConsumers.map((c) => ({
      ...c,
      kind: 'topic' as const,
      endpoint: `${c.channel}/${c.group}`,
      messages: c.messages.flatMap(allVersions),
    })),
  ];
  for (const c of receivers) {
    const group = 'group' in c ? c.group : undefined;
    operations[idOf(c.service, 'receives', c.endpoint)] = {
      action: 'receive',
      summary:
        `${c.service} consumes ${c.kind === 'queue' ? `queue ${c.channel}` : `${c.channel} as group ${group}`}; ` +
        'every message is validated against libs/contracts first, older versions are upcast',
      ...channelRef(idOf(c.kind, c.channel), c.messages),
      ...(group
        ? { bindings: { kafka: { groupId: { type: 'string', enum: [group] }, bindingVersion: '0.5.0' } } }
        : {}),
    };
  }
  for (const queue of queues) {
    const dlq = deadLetterQueue(queue.name);
    const id = idOf('queue', dlq);
    operations[idOf('audit', 'receives', dlq)] = {
      action: 'receive',
      summary: `audit stores the dead letters of ${queue.name} for inspection and replay`,
      ...channelRef(id, channelMessages.get(id) ?? []),
    };
  }

  const versions = uniqueById(allMessages.flatMap(allVersions)).sort((a, b) =>
    messageId(a).localeCompare(messageId(b)),
  );
  const messages: Json = Object.fromEntries(
    versions.map((d) => [
      messageId(d),
      {
        name: d.type,
        title: `${d.type} v${d.version}`,
        contentType: 'application/json',
        correlationId: { location: '$message.payload#/correlationId' },
        payload: ref(`components/schemas/${messageId(d)}`),
      },
    ]),
  );
  messages[ORDER_METRICS_RECORD] = {
    name: 'order-metrics',
    title: 'order-metrics record',
    contentType: 'application/json',
    payload: ref(`components/schemas/${ORDER_METRICS_RECORD}`),
  };
  const schemas: Json = Object.fromEntries(versions.map((d) => [messageId(d), d.jsonSchema()]));
  const { $schema: _drop, ...metrics } = z.toJSONSchema(OrderMetricsRecordSchema, { target: 'draft-7', io: 'input' });
  schemas[ORDER_METRICS_RECORD] = metrics;

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Async messaging reference system',
      version: '1.0.0',
      description:
        'Every exchange, queue and topic of the six services, with the messages on it and their schemas. ' +
        'Generated from libs/contracts (schemas, versions) and libs/messaging/src/topology.ts (exchanges, ' +
        `queues, topics) by tests/contracts/asyncapi.ts: do not edit, run \`${REGENERATE}\`. Every message is ` +
        'the JSON envelope of docs/design.md; consumers ignore fields they do not know.',
    },
    defaultContentType: 'application/json',
    servers: {
      rabbitmq: { host: 'localhost:5672', protocol: 'amqp', protocolVersion: '0.9.1', description: 'RabbitMQ' },
      kafka: { host: 'localhost:9092', protocol: 'kafka', description: 'Kafka (KRaft, single node)' },
    },
    channels,
    operations,
    components: { messages, schemas },
  };
}

/** The document as asyncapi.yaml holds it: YAML, formatted by the project's Prettier settings. */
export async function renderAsyncApi(consumptions: readonly Consumption[]): Promise<string> {
  const header = `# Generated by tests/contracts/asyncapi.ts from libs/contracts and libs/messaging: do not edit. Run \`${REGENERATE}\`.\n`;
  const yaml = header + stringify(buildAsyncApi(consumptions), { lineWidth: 0, aliasDuplicateObjects: false });
  const options = (await resolveConfig(ASYNCAPI_FILE)) ?? {};
  return format(yaml, { ...options, parser: 'yaml' });
}
