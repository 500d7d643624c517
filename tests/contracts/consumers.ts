import { globSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MessageCatalog } from '@am/contracts';
import type { ServiceName } from '@am/messaging';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One envelope subscription of one service: where it reads, and the catalog it validates with. */
export interface Consumption {
  service: ServiceName;
  /** A queue name, or `topic/group` for a Kafka consumer group. */
  endpoint: string;
  kind: 'queue' | 'topic';
  /** The queue, or the topic. */
  channel: string;
  group?: string;
  file: string;
  catalog: MessageCatalog;
}

interface SubscriptionExport {
  subscription: { queue?: string; topic?: string; groupId?: string };
  catalog: MessageCatalog;
}

function isSubscriptionExport(value: unknown): value is SubscriptionExport {
  if (typeof value !== 'object' || value === null) return false;
  const { subscription, catalog } = value as Partial<SubscriptionExport>;
  return typeof subscription === 'object' && typeof (catalog as { parse?: unknown } | undefined)?.parse === 'function';
}

/**
 * Who consumes what, derived from the services' own subscription declarations (`*.subscription.ts`, STYLE 8):
 * every exported `{ subscription, catalog }` is one consumer of the types in its catalog. Nothing is declared
 * twice, so the map cannot drift from the code that validates messages at run time.
 */
export async function loadConsumptions(): Promise<Consumption[]> {
  const files = globSync('services/*/src/**/*.subscription.ts', { cwd: ROOT }).sort();
  const found: Consumption[] = [];
  for (const file of files) {
    const service = file.split('/')[1] as ServiceName;
    const module = (await import(`${ROOT}${file}`)) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      if (!isSubscriptionExport(value)) continue;
      const { subscription, catalog } = value;
      if (subscription.queue) {
        found.push({
          service,
          endpoint: subscription.queue,
          kind: 'queue',
          channel: subscription.queue,
          file,
          catalog,
        });
      } else if (subscription.topic && subscription.groupId) {
        const { topic, groupId: group } = subscription;
        found.push({ service, endpoint: `${topic}/${group}`, kind: 'topic', channel: topic, group, file, catalog });
      }
    }
  }
  return found;
}

/** The consumers of one message type, as `service (endpoint)`, sorted. */
export function consumersOf(type: string, consumptions: readonly Consumption[]): string[] {
  return consumptions
    .filter((c) => c.catalog.has(type))
    .map((c) => `${c.service} (${c.endpoint})`)
    .sort();
}
