import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// STYLE 12: the TypeScript snippets in docs/dead-letters.md are copied from real files; this keeps them from drifting.
const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8');

describe('docs/dead-letters.md', () => {
  it('quotes only code that exists, as it is, in the audit service', () => {
    const doc = read('../../../docs/dead-letters.md');
    const sources =
      read('./store-dead-letter/dead-letter-queues.subscription.ts') +
      read('./replay-dead-letter/dead-letter-replayer.ts');
    const snippets = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(snippets).toHaveLength(2);
    for (const snippet of snippets) expect(sources).toContain(snippet);
  });
});
