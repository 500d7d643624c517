import { describe, expect, it } from 'vitest';
import { Topics } from '../topology.js';
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

  it('puts the deployment prefix in front of every name, literal and prefixed alike', () => {
    const acls = kafkaAcls('test-1.');
    expect(acls.length).toBe(kafkaAcls().length);
    expect(acls.every((a) => a.name.startsWith('test-1.'))).toBe(true);
  });

  it('grants no inventory ACL (inventory does not use Kafka)', () => {
    expect(kafkaAcls().filter((a) => a.principal === 'inventory')).toEqual([]);
  });
});
