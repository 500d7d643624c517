import { describe, expect, it } from 'vitest';
import { Topics } from '../topology.js';
import { defineKafkaSubscription } from './kafka-subscription.js';

describe('a Kafka subscription', () => {
  it('dead-letters only to a topic the topology provisions', () => {
    expect(defineKafkaSubscription({ topic: Topics.orderEvents, groupId: 'analytics' }).deadLetterTopic).toBe(
      Topics.orderEventsDeadLetters,
    );
    // account-events has no dead letter topic: a group that would dead-letter there is refused at start.
    expect(() => defineKafkaSubscription({ topic: Topics.accountEvents, groupId: 'analytics-accounts' })).toThrow(
      /account-events\.dlt is not in the topology/,
    );
    expect(
      defineKafkaSubscription({ topic: Topics.accountEvents, groupId: 'analytics-accounts', deadLetter: false }),
    ).toMatchObject({ deadLetter: false });
    // A topic of a bench's own, outside the topology, is its own business.
    expect(defineKafkaSubscription({ topic: 'bench-topic', groupId: 'bench' }).deadLetterTopic).toBe('bench-topic.dlt');
  });
});
