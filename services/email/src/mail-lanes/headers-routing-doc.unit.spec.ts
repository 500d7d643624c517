import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// STYLE 12: the TypeScript snippets in docs/headers-routing.md are copied from real files; this keeps them from
// drifting.
const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8');

describe('docs/headers-routing.md', () => {
  it('quotes only code that exists, as it is, in the topology and the mail lanes', () => {
    const doc = read('../../../../docs/headers-routing.md');
    const sources = ['../../../../libs/messaging/src/topology.ts', './mail-job.ts', './mail-lanes.subscription.ts']
      .map(read)
      .join('\n');
    const snippets = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(snippets).toHaveLength(4);
    for (const snippet of snippets) expect(sources).toContain(snippet);
  });
});
