import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The key pair that signs the project's bearer tokens (Ed25519). The private key signs (only the orders service,
 * which issues customers their tokens, and the token command use it); every service verifies with the public key.
 * Generated on first use, never committed: natively under `.run/keys/` (`./stack keys`), in compose by the one-shot
 * `auth-keys` job into volumes.
 */
export const PRIVATE_KEY_FILE = 'auth-signing.pem';
export const PUBLIC_KEY_FILE = 'auth-verify.pem';

export interface AuthKeyFiles {
  privateKey: string;
  publicKey: string;
}

export function authKeyFiles(dir: string): AuthKeyFiles {
  return { privateKey: path.join(dir, PRIVATE_KEY_FILE), publicKey: path.join(dir, PUBLIC_KEY_FILE) };
}

/** A fresh key pair in a new directory beside `dir` (so that a rename can put it in place atomically). */
function writeNewPair(dir: string): string {
  const staging = `${dir}.new-${randomBytes(4).toString('hex')}`;
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const files = authKeyFiles(staging);
  writeFileSync(files.privateKey, privateKey, { mode: 0o600 });
  writeFileSync(files.publicKey, publicKey, { mode: 0o644 });
  return staging;
}

/**
 * The key pair in `dir`, generated when there is none. Safe when several processes start at once: each writes a
 * pair of its own beside `dir` and renames it into place; the rename fails for all but the first, which then read
 * the winner's keys.
 */
export function ensureAuthKeys(dir: string): AuthKeyFiles & { created: boolean } {
  const files = authKeyFiles(dir);
  if (existsSync(files.publicKey)) return { ...files, created: false };
  mkdirSync(path.dirname(dir), { recursive: true });
  const staging = writeNewPair(dir);
  try {
    renameSync(staging, dir); // replaces `dir` only if it is absent or an empty directory
    return { ...files, created: true };
  } catch {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(files.publicKey)) throw new Error(`auth keys: could not create a key pair in ${dir}`);
    return { ...files, created: false };
  }
}

/**
 * Replaces the key pair: every token signed with the old key stops being accepted once the services have restarted
 * (they read the public key at start). The old pair is kept beside it as `<dir>.old-<time>`.
 */
export function rotateAuthKeys(dir: string): AuthKeyFiles & { previous?: string } {
  const staging = writeNewPair(dir);
  let previous: string | undefined;
  if (existsSync(dir)) {
    previous = `${dir}.old-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(dir, previous);
  }
  renameSync(staging, dir);
  return { ...authKeyFiles(dir), previous };
}

export function readKey(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `auth: cannot read the ${what} ${file} (${(error as Error).message}); create the keys with ./stack keys ` +
        '(natively) or the auth-keys job (compose), or point AUTH_KEYS_DIR at them',
    );
  }
}
