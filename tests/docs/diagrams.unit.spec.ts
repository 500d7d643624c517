import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  consumerGroupsSequence,
  exactlyOnceSequence,
  fanoutSequence,
  headersRoutingSequence,
  inboxSequence,
  orderingSequence,
  outboxSequence,
  requestReplySequence,
  retrySequence,
  taskQueueSequence,
  topics,
  type KafkaSubscription,
  topologyMermaid,
} from '@am/messaging';
import { sagaMermaid, sagaSequenceMermaid } from '../../services/orders/src/order-saga/order-saga.diagram.js';
import { orderFlowSequenceMermaid } from '../../services/orders/src/order-flow/order-flow.diagram.js';
import { accountSequenceMermaid } from '../../services/payments/src/accounts/account.diagram.js';
import { ROOT, loadConsumptions } from '../contracts/consumers.js';
import { schemaEvolutionMermaid } from '../contracts/schema-evolution.diagram.js';
import { ORDER_METRICS_GROUP } from '../../services/analytics/src/order-metrics/order-metrics.loop.js';
import { orderEventsProjection } from '../../services/analytics/src/order-stats/order-events.subscription.js';
import { orderEventsSubscription as auditOrderEvents } from '../../services/audit/src/record-audit-log/order-events.subscription.js';
import { deadLetterTopicSubscription } from '../../services/audit/src/store-dead-letter/dead-letter-topic.subscription.js';
import { orderNotificationsSubscription } from '../../services/email/src/order-emails/order-notifications.subscription.js';

// The diagrams in the docs are generated from the code and checked here, so they cannot drift.
// `npm run docs:diagrams` (WRITE_DIAGRAMS=1) rewrites them instead.
const REGENERATE = 'npm run docs:diagrams';

const diagrams: { file: string; name: string; render: () => string }[] = [
  { file: 'docs/design.md', name: 'topology', render: topologyMermaid },
  { file: 'docs/saga.md', name: 'saga', render: sagaMermaid },
  { file: 'docs/saga.md', name: 'saga-confirmed', render: () => sagaSequenceMermaid('confirmed') },
  { file: 'docs/saga.md', name: 'saga-payment-failed', render: () => sagaSequenceMermaid('payment-failed') },
  { file: 'docs/saga.md', name: 'saga-timeout', render: () => sagaSequenceMermaid('timeout') },
  { file: 'docs/choreography.md', name: 'saga-confirmed', render: () => sagaSequenceMermaid('confirmed') },
  { file: 'docs/choreography.md', name: 'flow-confirmed', render: () => orderFlowSequenceMermaid('confirmed') },
  {
    file: 'docs/choreography.md',
    name: 'flow-payment-failed',
    render: () => orderFlowSequenceMermaid('payment-failed'),
  },
  { file: 'docs/choreography.md', name: 'flow-timeout', render: () => orderFlowSequenceMermaid('timeout') },
  { file: 'docs/load-leveling.md', name: 'task-queue', render: taskQueueSequence },
  { file: 'docs/publish-subscribe.md', name: 'fanout', render: () => fanoutSequence() },
  { file: 'docs/publish-subscribe.md', name: 'consumer-groups', render: () => consumerGroupsSequence() },
  { file: 'docs/headers-routing.md', name: 'mail-lanes', render: () => headersRoutingSequence() },
  { file: 'docs/consumer-groups-and-replay.md', name: 'consumer-groups', render: () => consumerGroupsSequence() },
  { file: 'docs/consumer-groups-and-replay.md', name: 'exactly-once', render: exactlyOnceSequence },
  { file: 'docs/dead-letters.md', name: 'retry', render: () => retrySequence() },
  { file: 'docs/delivery-guarantees.md', name: 'outbox', render: outboxSequence },
  { file: 'docs/delivery-guarantees.md', name: 'inbox', render: () => inboxSequence() },
  { file: 'docs/event-sourcing.md', name: 'account', render: accountSequenceMermaid },
  { file: 'docs/ordering.md', name: 'ordering', render: () => orderingSequence() },
  { file: 'docs/schema-evolution.md', name: 'upcast', render: schemaEvolutionMermaid },
  { file: 'docs/request-reply.md', name: 'request-reply', render: () => requestReplySequence() },
];

/** The text between `<!-- diagram:name:begin -->` and `<!-- diagram:name:end -->`, as a fenced Mermaid block. */
function block(text: string, name: string): { start: number; end: number } | undefined {
  const begin = `<!-- diagram:${name}:begin -->`;
  const a = text.indexOf(begin);
  const b = text.indexOf(`<!-- diagram:${name}:end -->`);
  return a < 0 || b < a ? undefined : { start: a + begin.length, end: b };
}

const fenced = (mermaid: string) => `\n\`\`\`mermaid\n${mermaid}\n\`\`\`\n`;

describe('diagrams in the docs', () => {
  it("the account diagram is the decider's run: versions in sequence, and a refusal appends nothing", () => {
    const account = accountSequenceMermaid();
    expect(account).toContain('append MoneyWithdrawn 7.50 as version 3 (expected 2)');
    expect(account).toContain('decide refuses: insufficient_funds, nothing is appended');
    expect(account).not.toContain('as version 4');
  });

  it("the upcast diagram shows the upcaster's output for v1, and v2 unchanged", () => {
    const upcast = schemaEvolutionMermaid();
    expect(upcast).toContain("catalog->>handler: v2 {'firstName':'Ada','lastName':'King Lovelace','locale':'en'}");
    expect(upcast).toContain("catalog->>handler: v2 {'firstName':'Grace','lastName':'Hopper','locale':'en-US'}");
  });

  for (const { file, name, render } of diagrams) {
    it(`${file}: the ${name} diagram is what the code generates today`, () => {
      const full = path.join(ROOT, file);
      const text = readFileSync(full, 'utf8');
      const where = block(text, name);
      expect(where, `${file} has no <!-- diagram:${name}:begin/end --> markers`).toBeDefined();
      const wanted = fenced(render());
      if (process.env.WRITE_DIAGRAMS === '1') {
        writeFileSync(full, text.slice(0, where!.start) + wanted + text.slice(where!.end));
        return;
      }
      expect(text.slice(where!.start, where!.end) === wanted, `${file} is out of date: run \`${REGENERATE}\``).toBe(
        true,
      );
    });
  }

  it('the saga sequences send each command to the participant that consumes its queue, and end as the code decides', () => {
    const confirmed = sagaSequenceMermaid('confirmed');
    expect(confirmed).toContain('orders->>inventory: inventory.reserve (saga-commands → inventory.reserve)');
    expect(confirmed).toContain('payments-->>orders: payment.completed (saga-replies → order-saga-replies)');
    expect(confirmed).toContain('order CONFIRMED');
    const failed = sagaSequenceMermaid('payment-failed');
    expect(failed).toContain('payments-->>orders: payment.failed');
    expect(failed).toContain('orders->>inventory: inventory.release');
    expect(failed).toContain('order CANCELLED (payment_failed)');
    expect(failed).not.toContain('payment.refund');
    const timeout = sagaSequenceMermaid('timeout');
    expect(timeout).toContain('orders->>payments: payment.refund');
    expect(timeout).toContain('orders->>inventory: inventory.release');
    expect(timeout).toContain('order CANCELLED (timeout)');
  });

  it('the pattern sequences name what the topology has: every user-events subscriber, every group, every retry', () => {
    const fanout = fanoutSequence();
    for (const q of ['email-notifications', 'analytics-tracking', 'audit-log', 'payments-accounts']) {
      expect(fanout).toContain(`user_events->>${q.replace(/-/g, '_')}: copy`);
    }
    const groups = consumerGroupsSequence();
    for (const g of topics.find((t) => t.name === 'order-events')!.groups)
      expect(groups).toContain(`group ${g.groupId}`);
    const retry = retrySequence('payment.process', [10, 20, 30]);
    expect(retry).toContain('x-retry-count 3 (routing key payment.process-retry-3)');
    expect(retry).toContain('waits 0.03 s');
    expect(retry).toContain('dead_letters->>payment_process_dlq');
  });

  it("the saga diagram reaches every step, both endings and the timeout's compensations", () => {
    const mermaid = sagaMermaid();
    for (const step of ['reserve_inventory', 'process_payment', 'CONFIRMED', 'CANCELLED']) {
      expect(mermaid).toContain(step);
    }
    expect(mermaid).toContain(
      'process_payment --> CANCELLED: deadline passed / send payment.refund, send inventory.release, cancel (timeout)',
    );
  });

  it("the topology's Kafka consumer groups are the ones the services subscribe with", async () => {
    const declared = topics.flatMap((t) => t.groups.map((g) => `${t.name}/${g.groupId}/${g.consumer}`)).sort();
    const subscribed = (await loadConsumptions())
      .filter((c) => c.kind === 'topic')
      .map((c) => `${c.channel}/${c.group}/${c.service}`);
    // A group that dead-letters also reads its replay topic, in the same subscription (set from the topology).
    const replays = (
      [
        [auditOrderEvents.subscription, 'audit'],
        [orderNotificationsSubscription.subscription, 'email'],
        [orderEventsProjection.subscription, 'analytics'],
      ] as const
    ).map(([s, service]: readonly [KafkaSubscription, string]) => `${s.replayTopic}/${s.groupId}/${service}`);
    // The exactly-once loop reads with a kafkajs consumer of its own rather than a subscription file.
    const loop = `order-events/${ORDER_METRICS_GROUP}/analytics`;
    // The dead letter topic's store reads raw (a dead letter need not be an envelope): no catalog.
    const store = `${deadLetterTopicSubscription.topic}/${deadLetterTopicSubscription.groupId}/audit`;
    expect(declared).toEqual([...subscribed, ...replays, loop, store].sort());
  });
});
