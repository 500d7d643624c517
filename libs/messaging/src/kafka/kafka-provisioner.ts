import kafkajs from 'kafkajs';
import type { KafkaClient } from './kafka-client.js';
import { topics } from '../topology.js';

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
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: client.name(t.name),
          numPartitions: t.partitions,
          replicationFactor,
          configEntries: settings(t),
        })),
      });
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

/** Deletes every topic that starts with the client's prefix (tests clean up their own topics). */
export async function deletePrefixedTopics(client: KafkaClient): Promise<void> {
  if (!client.prefix) throw new Error('refusing to delete topics without a prefix');
  const admin = client.admin();
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(client.prefix));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  } finally {
    await admin.disconnect();
  }
}
