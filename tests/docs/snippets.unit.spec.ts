import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every TypeScript snippet in the docs (the pattern pages, the design, the services' READMEs, the exercises) is a
// verbatim piece of a compiled file of the repository (indentation aside: a snippet may be lifted out of a block), so
// a page cannot show code that no longer exists.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tracked = (pattern: string[]) =>
  execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', ...pattern], { cwd: root })
    .toString()
    .split('\n')
    .filter(Boolean);
const dedent = (text: string) => text.replace(/^[ \t]+/gm, '');
const pages = tracked(['*.md']).filter((f) => !f.startsWith('node_modules/'));
const sources = tracked(['*.ts', '*.mts'])
  .filter((f) => !f.includes('node_modules/') && !f.endsWith('.d.ts'))
  .map((f) => dedent(readFileSync(path.join(root, f), 'utf8')))
  .join('\n');

const snippets = pages.flatMap((page) =>
  [...readFileSync(path.join(root, page), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => ({
    page,
    code: m[1]!,
  })),
);

describe('TypeScript snippets in the docs', () => {
  it('finds some (the check below is not vacuous)', () => {
    expect(new Set(snippets.map((s) => s.page)).size).toBeGreaterThanOrEqual(5);
  });

  it.each(snippets.map((s, i) => [`${s.page} #${i}`, s] as const))(
    '%s is a verbatim piece of a source file',
    (_, s) => {
      expect(sources.includes(dedent(s.code)), `${s.page}:\n${s.code}`).toBe(true);
    },
  );
});
