import { describe, expect, it } from 'vitest';
import { ORDER_EVENTS_DEAD_LETTERING_GROUPS, Topics, replayTopic, topics } from '../topology.js';
import { kafkaAcls } from './kafka-acls.js';

const line = (a: ReturnType<typeof kafkaAcls>[number]) =>
  `${a.principal} ${a.operation} ${a.resource}${a.pattern === 'prefixed' ? '*' : ''} ${a.name}`;

describe('kafkaAcls (the service principals ACLs, from the topology)', () => {
  it('gives write on order-events to orders alone, and on account-events to payments alone', () => {
    const writers = (topic: string) =>
      kafkaAcls()
        .filter((a) => a.resource === 'topic' && a.name === topic && a.operation === 'write')
        .map((a) => a.principal);
    expect(writers(Topics.orderEvents)).toEqual(['orders']);
    expect(writers(Topics.accountEvents)).toEqual(['payments']);
    expect(writers(Topics.orderEventsDeadLetters).sort()).toEqual(['analytics', 'audit', 'email']);
  });

  it('is exactly this list (a change to it is a change to docs/security.md)', () => {
    expect(kafkaAcls().map(line)).toEqual([
      'orders write topic order-events',
      'orders describe topic order-events',
      'analytics read topic order-events',
      'analytics describe topic order-events',
      'analytics read group analytics',
      'audit read topic order-events',
      'audit describe topic order-events',
      'audit read group audit',
      'email read topic order-events',
      'email describe topic order-events',
      'email read group order-notifications',
      'analytics read group order-metrics',
      'analytics write topic order-events.dlt',
      'analytics describe topic order-events.dlt',
      'audit write topic order-events.dlt',
      'audit describe topic order-events.dlt',
      'email write topic order-events.dlt',
      'email describe topic order-events.dlt',
      'audit read topic order-events.dlt',
      'audit read group audit-dead-letters',
      'audit write topic order-events.replay.analytics',
      'audit describe topic order-events.replay.analytics',
      'analytics read topic order-events.replay.analytics',
      'analytics describe topic order-events.replay.analytics',
      'audit write topic order-events.replay.audit',
      'audit describe topic order-events.replay.audit',
      'audit read topic order-events.replay.audit',
      'audit write topic order-events.replay.order-notifications',
      'audit describe topic order-events.replay.order-notifications',
      'email read topic order-events.replay.order-notifications',
      'email describe topic order-events.replay.order-notifications',
      'payments write topic account-events',
      'payments describe topic account-events',
      'analytics read topic account-events',
      'analytics describe topic account-events',
      'analytics read group analytics-accounts',
      'analytics write topic order-metrics',
      'analytics describe topic order-metrics',
      'analytics read topic order-metrics',
      'analytics write transactional-id* analytics-order-metrics-',
      'analytics describe transactional-id* analytics-order-metrics-',
      'analytics read group* analytics-replay-',
      'analytics read group* analytics-metrics-view-',
    ]);
  });

  it('lets audit alone write the replay topics, and each group read only its own', () => {
    const replayTopics = topics.filter((t) => t.name.startsWith(`${Topics.orderEvents}.replay.`));
    expect(replayTopics.map((t) => t.name)).toEqual(
      ORDER_EVENTS_DEAD_LETTERING_GROUPS.map((g) => replayTopic(Topics.orderEvents, g.groupId)),
    );
    for (const topic of replayTopics) {
      const on = kafkaAcls().filter((a) => a.resource === 'topic' && a.name === topic.name);
      const group = ORDER_EVENTS_DEAD_LETTERING_GROUPS.find((g) => topic.name.endsWith(`.replay.${g.groupId}`))!;
      expect(on.filter((a) => a.operation === 'write').map((a) => a.principal)).toEqual(['audit']);
      expect(on.filter((a) => a.operation === 'read').map((a) => a.principal)).toEqual([group.consumer]);
      expect(topic.groups).toEqual([group]);
    }
  });

  it('puts the deployment prefix in front of every name, literal and prefixed alike', () => {
    const acls = kafkaAcls('test-1.');
    expect(acls.length).toBe(kafkaAcls().length);
    expect(acls.every((a) => a.name.startsWith('test-1.'))).toBe(true);
  });

  it('grants no inventory ACL (inventory does not use Kafka)', () => {
    expect(kafkaAcls().filter((a) => a.principal === 'inventory')).toEqual([]);
  });
});
