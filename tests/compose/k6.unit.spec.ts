import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORTS } from '@am/messaging';
import { compose, read, root } from './compose-files.js';

/**
 * The k6 scenarios cannot run here (no k6 binary, no Docker): they are type-checked against @types/k6 and their
 * options are checked for the thresholds that make a run fail.
 */

const SCENARIOS = ['burst.ts', 'steady.ts', 'soak.ts', 'sync-vs-async.ts'];
const k6Files = (dir = 'k6/'): string[] =>
  readdirSync(new URL(dir, root), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? k6Files(`${dir}${e.name}/`) : e.name.endsWith('.ts') ? [`${dir}${e.name}`] : [],
  );

describe('k6 scenarios', () => {
  it('type-check with @types/k6 (tsc -p k6/tsconfig.json)', () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', fileURLToPath(new URL('k6/tsconfig.json', root))], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  }, 60_000);

  it('are the four scenarios: burst, steady, soak, sync-vs-async', () => {
    expect(
      readdirSync(new URL('k6/', root))
        .filter((f) => f.endsWith('.ts'))
        .sort(),
    ).toEqual([...SCENARIOS].sort());
  });

  it.each(SCENARIOS)('%s fails the run on errors and on latency (thresholds), after the shared setup', (name) => {
    const source = read(`k6/${name}`);
    expect(source).toMatch(/export const options: Options = \{/);
    expect(source).toMatch(/'http_req_failed\{endpoint:(async|sync)\}': \[`rate</);
    expect(source).toMatch(/'http_req_duration\{endpoint:(async|sync)\}': \[`p\(9[59]\)</);
    expect(source).toMatch(/export function setup\(\): LoadData \{\n {2}return prepareLoad\(/);
  });

  it('burst sends 10,000 requests in one second by default (open model)', () => {
    const source = read('k6/burst.ts');
    expect(source).toContain("const requests = envInt('BURST_REQUESTS', 10_000);");
    expect(source).toContain("executor: 'constant-arrival-rate'");
    expect(source).toContain("timeUnit: '1s'");
    expect(source).toContain("duration: envDuration('BURST_DURATION', '1s')");
  });

  it('sync-vs-async places orders through POST /orders and POST /orders/sync, tagged apart', () => {
    expect(read('k6/lib/orders.ts')).toContain(
      "const PATHS: Record<Endpoint, string> = { async: '/orders', sync: '/orders/sync' };",
    );
    const source = read('k6/sync-vs-async.ts');
    expect(source).toContain("placeOrder(data, 'async')");
    expect(source).toContain("placeOrder(data, 'sync')");
  });

  it('default to the compose services on their native ports, overridable through __ENV', () => {
    const config = read('k6/lib/config.ts');
    for (const service of ['orders', 'inventory', 'payments'] as const) {
      const variable = `${service.toUpperCase()}_URL`;
      const url = `http://${service}:${DEFAULT_PORTS[service]}`;
      expect(config).toContain(`export const ${variable} = __ENV.${variable} ?? '${url}';`);
      expect(compose().services.k6?.environment?.[variable]).toBe(url);
    }
  });

  it('set up through the HTTP API of DESIGN.md: POST /users, PUT /stock/:sku, POST /accounts/:userId/deposits', () => {
    const setup = read('k6/lib/setup.ts');
    expect(setup).toContain('`${ORDERS_URL}/users`');
    expect(setup).toContain('`${INVENTORY_URL}/stock/${sku}`');
    expect(setup).toContain('`${PAYMENTS_URL}/accounts/${userId}/deposits`');
  });

  it('import local modules with their .ts extension (k6 resolves module paths as written)', () => {
    for (const path of k6Files()) {
      for (const m of read(path).matchAll(/from '(\.[^']+)'/g)) expect(m[1], path).toMatch(/\.ts$/);
    }
  });
});
