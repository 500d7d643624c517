import { MessageCatalog, UserRegistered, UserRegisteredV1 } from '@am/contracts';
import { Exchanges, Queues } from '@am/messaging';

const origin = { correlationId: 'c' };
const show = (data: object) =>
  JSON.stringify(data)
    .replace(/"userId":"u",|"email":"[^"]*",?/g, '')
    .replace(/"/g, "'");

/**
 * `user.registered` v1 → v2 as a Mermaid sequence diagram, found by running the email service's catalog (which reads
 * both versions) on a real v1 and a real v2 message: what the handler receives is what the upcaster returned.
 */
export function schemaEvolutionMermaid(): string {
  const catalog = new MessageCatalog([UserRegistered]);
  const v1 = UserRegisteredV1.create({ userId: 'u', email: 'ada@example.com', name: 'Ada King Lovelace' }, origin);
  const v2 = UserRegistered.create(
    { userId: 'u', email: 'grace@example.com', firstName: 'Grace', lastName: 'Hopper', locale: 'en-US' },
    origin,
  );
  const read = (message: object) => {
    const parsed = catalog.parse(JSON.stringify(message));
    if (!parsed.ok) throw new Error(`the catalog refused a sample: ${parsed.reason}`);
    return parsed.message as { version: number; data: object };
  };
  const [fromV1, fromV2] = [read(v1), read(v2)];
  return [
    'sequenceDiagram',
    '  participant old as a v1 message (sent before the change, dead-lettered, or replayed)',
    '  participant orders as orders today (writes v2)',
    `  participant queue as ${Exchanges.userEvents} → ${Queues.emailNotifications}`,
    '  participant catalog as email: the catalog (reads v1 and v2)',
    '  participant handler as email: the handler (knows only v2)',
    `  old->>queue: ${v1.type} v${v1.version} ${show(v1.data)}`,
    `  orders->>queue: ${v2.type} v${v2.version} ${show(v2.data)}`,
    `  queue->>catalog: v${v1.version}`,
    `  Note over catalog: validated against v${v1.version}'s schema, then upcastUserRegistered`,
    `  catalog->>handler: v${fromV1.version} ${show(fromV1.data)}`,
    `  queue->>catalog: v${v2.version}`,
    `  Note over catalog: validated against v${v2.version}'s schema: passes unchanged`,
    `  catalog->>handler: v${fromV2.version} ${show(fromV2.data)}`,
  ].join('\n');
}
