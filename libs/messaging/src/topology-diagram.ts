import {
  Exchanges,
  SERVICES,
  bindingLabel,
  exchanges,
  queryExchanges,
  queryQueues,
  queues,
  replyQueueName,
  requesters,
  topics,
} from './topology.js';

const id = (kind: string, name: string) => `${kind}_${name.replace(/[^a-zA-Z0-9]/g, '_')}`;

/**
 * The whole messaging topology as a Mermaid flowchart, generated from `topology.ts` (so it cannot drift): services,
 * RabbitMQ exchanges and queues with their bindings, Kafka topics with their producers and consumer groups. Each
 * queue also has three retry queues and a dead letter queue (audit consumes every one of those), fed through the
 * `retries` and `dead-letters` exchanges, and audit replays through `replays`: left out of the picture to keep it
 * readable. Request/reply is drawn with one reply queue per requesting service, standing for one per process.
 */
export function topologyMermaid(): string {
  const lines = ['flowchart LR'];
  for (const service of SERVICES) lines.push(`  ${id('svc', service)}(["${service}"])`);
  lines.push('  subgraph RabbitMQ');
  const replyQueues = requesters().map((service) => ({
    name: replyQueueName(service, '*'),
    consumer: service,
    bindings: [{ exchange: Exchanges.replies, routingKey: '' }],
  }));
  const allExchanges = [...exchanges, ...queryExchanges];
  const allQueues = [...queues, ...queryQueues, ...replyQueues];
  for (const exchange of allExchanges)
    lines.push(`    ${id('ex', exchange.name)}{{"${exchange.name} (${exchange.type})"}}`);
  for (const queue of allQueues) lines.push(`    ${id('q', queue.name)}[["${queue.name}"]]`);
  lines.push('  end');
  lines.push('  subgraph Kafka');
  for (const topic of topics) lines.push(`    ${id('t', topic.name)}[("${topic.name} (${topic.partitions})")]`);
  lines.push('  end');
  for (const exchange of allExchanges) {
    for (const publisher of exchange.publishers) lines.push(`  ${id('svc', publisher)} --> ${id('ex', exchange.name)}`);
    if (exchange.alternateExchange) {
      lines.push(`  ${id('ex', exchange.name)} -.->|unrouted| ${id('ex', exchange.alternateExchange)}`);
    }
  }
  for (const queue of allQueues) {
    for (const binding of queue.bindings) {
      const text = replyQueues.includes(queue as (typeof replyQueues)[number]) ? 'its name' : bindingLabel(binding);
      const label = !text ? ' --> ' : 'headers' in binding && binding.headers ? ` -->|"${text}"| ` : ` -->|${text}| `;
      lines.push(`  ${id('ex', binding.exchange)}${label}${id('q', queue.name)}`);
    }
    lines.push(`  ${id('q', queue.name)} --> ${id('svc', queue.consumer)}`);
  }
  for (const topic of topics) {
    for (const producer of topic.producers) lines.push(`  ${id('svc', producer)} --> ${id('t', topic.name)}`);
    for (const group of topic.groups) {
      lines.push(`  ${id('t', topic.name)} -->|group ${group.groupId}| ${id('svc', group.consumer)}`);
    }
  }
  return lines.join('\n');
}
