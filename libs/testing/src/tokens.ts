import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokenIssuer, ensureAuthKeys, type Caller, type Role } from '@am/messaging';

/**
 * The token keys the tests' services verify with and the tests sign with: the clone's `.run/keys`, the same pair a
 * development stack of this clone uses (created on first use; `./stack rotate-keys` would invalidate both). The
 * container tier points TEST_AUTH_KEYS_DIR at the pair its compose stack generated.
 */
export const TEST_KEYS_DIR =
  process.env.TEST_AUTH_KEYS_DIR ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../.run/keys');

let issuer: TokenIssuer | undefined;
const issued = new Map<string, Promise<string>>();

/** A bearer token for `caller`, signed with the clone's key (the same token for the same caller within a run). */
export function tokenFor(caller: Caller): Promise<string> {
  const key = `${caller.role}/${caller.subject}/${caller.email ?? ''}`;
  let token = issued.get(key);
  if (!token) {
    if (!issuer) {
      ensureAuthKeys(TEST_KEYS_DIR);
      issuer = TokenIssuer.fromDir(TEST_KEYS_DIR);
    }
    token = issuer.issue(caller);
    issued.set(key, token);
  }
  return token;
}

export const serviceToken = () => tokenFor({ role: 'service', subject: 'tests' });
export const operatorToken = () => tokenFor({ role: 'operator', subject: 'tests' });

/**
 * The role a test calls a route as unless it says otherwise (the authorization matrix calls every route as every
 * kind of caller explicitly): the operator for the operators' routes, a service (trusted to act for any user)
 * for the rest.
 */
export function defaultRoleFor(method: string, url: string): Role {
  const { pathname } = new URL(url);
  const operatorRoute =
    /^\/(analytics|audit|dead-letters|dead-letter-groups|dead-letter-replays|faults|operator-actions|consumer-groups)(\/|$)/.test(
      pathname,
    ) ||
    (method.toUpperCase() === 'PUT' && pathname.startsWith('/stock/')) ||
    pathname === '/emails';
  return operatorRoute ? 'operator' : 'service';
}
