import kafkajs, { type Admin } from 'kafkajs';
import type { KafkaClient } from './kafka-client.js';
import { topics } from '../topology.js';
import { kafkaAcls, type KafkaAcl } from './kafka-acls.js';

const resourceTypes = {
  topic: kafkajs.AclResourceTypes.TOPIC,
  group: kafkajs.AclResourceTypes.GROUP,
  'transactional-id': kafkajs.AclResourceTypes.TRANSACTIONAL_ID,
} as const;
const operations = {
  read: kafkajs.AclOperationTypes.READ,
  write: kafkajs.AclOperationTypes.WRITE,
  describe: kafkajs.AclOperationTypes.DESCRIBE,
} as const;

/** The broker's form of one ACL of the topology: allow, from any host. */
export function aclBinding(acl: KafkaAcl) {
  return {
    resourceType: resourceTypes[acl.resource],
    resourceName: acl.name,
    resourcePatternType:
      acl.pattern === 'prefixed' ? kafkajs.ResourcePatternTypes.PREFIXED : kafkajs.ResourcePatternTypes.LITERAL,
    principal: `User:${acl.principal}`,
    host: '*',
    operation: operations[acl.operation],
    permissionType: kafkajs.AclPermissionTypes.ALLOW,
  };
}

/**
 * Grants each service principal the ACLs of the topology for the client's prefix (kafka-acls.ts). Creating an ACL
 * that exists is a no-op, so this is idempotent. Returns how many bindings the topology has.
 */
export async function provisionKafkaAcls(client: KafkaClient): Promise<number> {
  const acl = kafkaAcls(client.prefix).map(aclBinding);
  const admin = client.admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl });
    return acl.length;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates the topics of the topology (with the client's prefix) that do not exist yet, and sets every topic's
 * `max.message.bytes` to the topology's value (also on topics created before it was set). On a cluster
 * (`replicationFactor` 3 or more) each topic also needs two replicas in sync for a write (`min.insync.replicas`).
 */
export async function provisionKafka(
  client: KafkaClient,
  options: { replicationFactor?: number } = {},
): Promise<string[]> {
  const replicationFactor = options.replicationFactor ?? 1;
  // Set in full each time: this API replaces a topic's dynamic settings rather than merging them.
  const settings = (t: (typeof topics)[number]) => [
    { name: 'max.message.bytes', value: String(t.maxMessageBytes) },
    ...(replicationFactor >= 3 ? [{ name: 'min.insync.replicas', value: '2' }] : []),
  ];
  const admin = client.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(client.name(t.name)));
    if (missing.length > 0) {
      await admin.createTopics({
        // Waited for below: kafkajs' own wait gives up, unhandled, when the broker answers a metadata request with
        // UNKNOWN_TOPIC_OR_PARTITION for a topic it created a moment ago (seen while two worlds were provisioned at once).
        waitForLeaders: false,
        topics: missing.map((t) => ({
          topic: client.name(t.name),
          numPartitions: t.partitions,
          replicationFactor,
          configEntries: settings(t),
        })),
      });
      await waitForLeaders(
        admin,
        missing.map((t) => client.name(t.name)),
      );
    }
    const present = topics.filter((t) => existing.has(client.name(t.name)));
    if (present.length > 0) {
      await admin.alterConfigs({
        validateOnly: false,
        resources: present.map((t) => ({
          type: kafkajs.ConfigResourceTypes.TOPIC,
          name: client.name(t.name),
          configEntries: settings(t),
        })),
      });
    }
    return missing.map((t) => client.name(t.name));
  } finally {
    await admin.disconnect();
  }
}

/** The ACLs the broker holds on names that start with `prefix`, one binding each (the form `aclBinding` gives). */
export async function aclsUnderPrefix(admin: Admin, prefix: string) {
  const { resources } = await admin.describeAcls({
    resourceType: kafkajs.AclResourceTypes.ANY,
    resourcePatternType: kafkajs.ResourcePatternTypes.ANY,
    operation: kafkajs.AclOperationTypes.ANY,
    permissionType: kafkajs.AclPermissionTypes.ANY,
  });
  return resources
    .filter((r) => r.resourceName.startsWith(prefix))
    .flatMap((r) =>
      r.acls.map((a) => ({
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        resourcePatternType: r.resourcePatternType,
        principal: a.principal,
        host: a.host,
        operation: a.operation,
        permissionType: a.permissionType,
      })),
    );
}

/**
 * Deletes every topic that starts with the client's prefix, and the ACLs the topology granted for that prefix
 * (tests clean up their own topics and grants).
 */
export async function deletePrefixedTopics(client: KafkaClient): Promise<void> {
  if (!client.prefix) throw new Error('refusing to delete topics without a prefix');
  const admin = client.admin();
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(client.prefix));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
    // Every ACL on a name under the prefix (also those of isolated worlds nested under it).
    const filters = await aclsUnderPrefix(admin, client.prefix);
    if (filters.length > 0) await admin.deleteAcls({ filters });
  } finally {
    await admin.disconnect();
  }
}

/** Waits until every partition of `names` has a leader; an error on the way (a topic not known yet) is a retry. */
async function waitForLeaders(admin: Admin, names: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      const leaderless = topics.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
      if (leaderless.length === 0) return;
      last = `no leader yet for ${leaderless.map((t) => t.name).join(', ')}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Kafka topics without leaders after ${timeoutMs} ms: ${last}`);
}
