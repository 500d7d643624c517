import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// STYLE 12: the TypeScript snippets in docs/publish-subscribe.md are copied from real files; this keeps them from
// drifting.
const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8');

describe('docs/publish-subscribe.md', () => {
  it('quotes only code that exists, as it is, in the topology, the producer and the email service', () => {
    const doc = read('../../../docs/publish-subscribe.md');
    const sources = [
      '../../../libs/messaging/src/topology.ts',
      '../../orders/src/users/register-user.controller.ts',
      './welcome-email/email-notifications.subscription.ts',
      './order-emails/order-notifications.subscription.ts',
    ]
      .map(read)
      .join('\n');
    const snippets = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(snippets).toHaveLength(5);
    for (const snippet of snippets) expect(sources).toContain(snippet);
  });
});
