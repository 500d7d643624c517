import { topicName, topics, type ServiceName } from '../topology.js';

/**
 * Kafka's side of least privilege (docs/security.md): the ACLs each service's principal (`User:<service>`) holds,
 * generated from the topology so that they cannot drift from it. A producer of a topic may write and describe it;
 * a consumer group's service may read the topic and the group; a few names are granted by prefix because the
 * service makes them up at run time (a replay's throwaway group, an instance's transactional id). Nothing else is
 * allowed: the broker's authorizer denies what no ACL grants, and only the admin principal is a super user.
 */
export interface KafkaAcl {
  principal: ServiceName;
  resource: 'topic' | 'group' | 'transactional-id';
  name: string;
  pattern: 'literal' | 'prefixed';
  operation: 'read' | 'write' | 'describe';
}

/** Names a service makes up at run time, granted by prefix (the deployment's prefix goes in front). */
export const kafkaPrefixedGrants: {
  principal: ServiceName;
  resource: 'group' | 'transactional-id';
  prefix: string;
  why: string;
}[] = [
  {
    principal: 'analytics',
    resource: 'transactional-id',
    prefix: 'analytics-order-metrics-',
    why: 'the exactly-once loop: one transactional id per instance',
  },
  {
    principal: 'analytics',
    resource: 'group',
    prefix: 'analytics-replay-',
    why: 'a replay of the read model reads from offset 0 in a throwaway group',
  },
  {
    principal: 'analytics',
    resource: 'group',
    prefix: 'analytics-metrics-view-',
    why: 'the view of order-metrics is rebuilt from the topic at each start, in a throwaway group',
  },
];

/** Topics a service reads only in groups of `kafkaPrefixedGrants` (no group of the topology names it). */
export const kafkaPrefixedReads: { principal: ServiceName; topic: string }[] = [
  { principal: 'analytics', topic: 'order-metrics' },
];

/** The ACLs of every service principal, for topics and groups named with `prefix` (empty for a deployment). */
export function kafkaAcls(prefix = ''): KafkaAcl[] {
  const acls: KafkaAcl[] = [];
  const add = (acl: KafkaAcl) => {
    const same = (a: KafkaAcl) =>
      a.principal === acl.principal &&
      a.resource === acl.resource &&
      a.name === acl.name &&
      a.pattern === acl.pattern &&
      a.operation === acl.operation;
    if (!acls.some(same)) acls.push(acl);
  };
  for (const topic of topics) {
    const name = topicName(prefix, topic.name);
    for (const principal of topic.producers) {
      add({ principal, resource: 'topic', name, pattern: 'literal', operation: 'write' });
      add({ principal, resource: 'topic', name, pattern: 'literal', operation: 'describe' });
    }
    for (const { groupId, consumer: principal } of topic.groups) {
      add({ principal, resource: 'topic', name, pattern: 'literal', operation: 'read' });
      add({ principal, resource: 'topic', name, pattern: 'literal', operation: 'describe' });
      add({ principal, resource: 'group', name: topicName(prefix, groupId), pattern: 'literal', operation: 'read' });
    }
  }
  for (const { principal, topic } of kafkaPrefixedReads) {
    const name = topicName(prefix, topic);
    add({ principal, resource: 'topic', name, pattern: 'literal', operation: 'read' });
    add({ principal, resource: 'topic', name, pattern: 'literal', operation: 'describe' });
  }
  for (const grant of kafkaPrefixedGrants) {
    const name = topicName(prefix, grant.prefix);
    const operations = grant.resource === 'group' ? (['read'] as const) : (['write', 'describe'] as const);
    for (const operation of operations) {
      add({ principal: grant.principal, resource: grant.resource, name, pattern: 'prefixed', operation });
    }
  }
  return acls;
}
