import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isSecretName, read, requiredVariable, root } from './compose-files.js';

const dir = mkdtempSync(path.join(tmpdir(), 'compose-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs scripts/compose-env.sh (what `./stack compose-env FILE` runs) and returns FILE's variables. */
function composeEnv(file: string): Record<string, string> {
  execFileSync('bash', ['scripts/compose-env.sh', file], { cwd: new URL('.', root), stdio: 'pipe' });
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z0-9_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

/** The secrets of the template: every password, and the cluster profile's Erlang cookie. */
const passwordNames = read('compose/.env.example')
  .split('\n')
  .filter((line) => /^[A-Z0-9_]+=/.test(line))
  .map((line) => line.slice(0, line.indexOf('=')))
  .filter(isSecretName);

describe('scripts/compose-env.sh (./stack compose-env)', () => {
  it('writes a random value for every secret docker-compose.yml (or its cluster profile) requires, readable by its owner only', () => {
    const file = path.join(dir, 'a.env');
    const env = composeEnv(file);
    const compose = `${read('docker-compose.yml')}\n${read('docker-compose.cluster.yml')}`;
    expect(passwordNames.length).toBeGreaterThan(20);
    expect(passwordNames).toContain('RABBITMQ_ERLANG_COOKIE');
    for (const name of passwordNames) {
      expect(env[name], name).toMatch(/^[A-Za-z0-9]{24}$/);
      expect(compose, name).toContain(requiredVariable(name));
    }
    expect(new Set(passwordNames.map((n) => env[n])).size).toBe(passwordNames.length);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Another file, other passwords.
    const other = composeEnv(path.join(dir, 'b.env'));
    expect(passwordNames.every((n) => other[n] !== env[n])).toBe(true);
    // The other values are the template's.
    expect(env.KAFKA_CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(env.ORDERS_HOST_PORT).toBe('3001');
  });

  it('keeps what an existing file sets, fills what it lacks, and keeps keys the template does not have', () => {
    const file = path.join(dir, 'c.env');
    writeFileSync(file, 'ORDERS_DB_PASSWORD=kept-password\nAUDIT_DB_PASSWORD=\nORDERS_HOST_PORT=4001\nMY_OWN=1\n');
    const env = composeEnv(file);
    expect(env.ORDERS_DB_PASSWORD).toBe('kept-password');
    expect(env.AUDIT_DB_PASSWORD).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(env.ORDERS_HOST_PORT).toBe('4001');
    expect(env.MY_OWN).toBe('1');
    // Running it again changes nothing.
    const before = readFileSync(file, 'utf8');
    composeEnv(file);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });
});
