import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROOT } from './consumers.js';

// STYLE 12: the TypeScript snippets in docs/schema-evolution.md are copied from real files; this keeps them honest.
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');

describe('docs/schema-evolution.md', () => {
  it('quotes only code that exists, as it is, in libs/contracts', () => {
    const doc = read('docs/schema-evolution.md');
    const sources = ['orders.messages.ts', 'orders.messages.v1.ts', 'message.ts']
      .map((file) => read(`libs/contracts/src/${file}`))
      .join('\n');
    const snippets = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!.trimEnd());
    expect(snippets).toHaveLength(4);
    for (const snippet of snippets) expect(sources).toContain(snippet);
  });

  it('points only at files that exist', () => {
    const doc = read('docs/schema-evolution.md');
    const paths = [...doc.matchAll(/`((?:libs|services|tests|fixtures)\/[\w./-]+\.(?:ts|json))`/g)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThan(10);
    for (const path of paths) expect(() => read(path), path).not.toThrow();
  });
});
