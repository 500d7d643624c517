import { globSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROUTES } from './routes.js';

// The authorization matrix (routes.ts) against the controllers: every route has an `@Access` rule, and the matrix
// names exactly the routes and roles the code declares, so the e2e matrix cannot miss a route or test a stale rule.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Declared {
  key: string;
  roles: string;
}

/** Controllers of libs/messaging that runService mounts on each of the six services. */
const SHARED_CONTROLLERS = 'libs/messaging/src/**/*.controller.ts';
const SIX_SERVICES = 6;

function declaredRoutes(): Declared[] {
  const found: Declared[] = [];
  const shared = globSync(SHARED_CONTROLLERS, { cwd: ROOT });
  expect(shared.length).toBeGreaterThan(0);
  const files = [
    ...globSync('services/*/src/**/*.controller.ts', { cwd: ROOT }),
    ...shared.flatMap((f) => Array<string>(SIX_SERVICES).fill(f)),
  ];
  for (const file of files) {
    const text = readFileSync(`${ROOT}${file}`, 'utf8');
    const prefix = /@Controller\('([^']*)'\)/.exec(text)?.[1] ?? '';
    const classRule = /@Controller\([^)]*\)\s*@Access\(([^)]*)\)/.exec(text)?.[1];
    const decorator = /@(Get|Post|Put|Delete|Patch)\((?:'([^']*)')?\)((?:\s*@\w+\([^)]*\))*)/g;
    for (const match of text.matchAll(decorator)) {
      const [, verb, sub, following] = match;
      const rule = /@Access\(([^)]*)\)/.exec(following ?? '')?.[1] ?? classRule;
      const path = `/${[prefix, sub].filter(Boolean).join('/')}`;
      found.push({
        key: `${verb!.toUpperCase()} ${path}`,
        roles: rule === undefined ? 'NO RULE' : normalize(rule.split(',').map((r) => r.trim().replace(/'/g, ''))),
      });
    }
  }
  return found.sort((a, b) => a.key.localeCompare(b.key));
}

const normalize = (roles: string[]) => [...new Set(roles.map((r) => (r === 'own' ? 'customer' : r)))].sort().join(',');

describe('the authorization matrix', () => {
  it('names every route the controllers declare, with the roles of its @Access rule', () => {
    const matrix = ROUTES.map((r) => ({
      key: `${r.method} ${r.route}`,
      roles: r.allowed === 'public' ? 'public' : normalize(r.allowed),
    })).sort((a, b) => a.key.localeCompare(b.key));
    expect(declaredRoutes()).toEqual(matrix);
  });

  it('is the table docs/security.md shows', () => {
    const doc = readFileSync(`${ROOT}docs/security.md`, 'utf8');
    const shown = (r: (typeof ROUTES)[number]) =>
      r.allowed === 'public'
        ? 'everyone'
        : r.allowed.map((role) => (role === 'own' ? 'own customer' : role)).join(', ');
    for (const r of ROUTES) expect(doc).toContain(`| \`${r.method} ${r.route}\` | ${shown(r)} |`);
  });
});
