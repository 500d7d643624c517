import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * The machine's secrets for the native stack: one file per secret, generated on first use by `infra/up` (or by
 * `machineSecret` here), mode 0600 in a 0700 directory outside every checkout, so that all checkouts of the
 * project on one machine (a development stack, a CI clone) share one broker and agree on its passwords.
 * Compose and Kubernetes never read these files: they pass passwords in environment variables.
 *
 * Directory: `MESSAGING_SECRETS_DIR`, else `$XDG_STATE_HOME/async-messaging/secrets`, else
 * `~/.local/state/async-messaging/secrets` (infra/lib.sh resolves the same path).
 */
export function secretsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MESSAGING_SECRETS_DIR) return path.resolve(env.MESSAGING_SECRETS_DIR);
  return path.join(stateDir(env), 'secrets');
}

/** `$XDG_STATE_HOME/async-messaging`, else `~/.local/state/async-messaging`. */
function stateDir(env: NodeJS.ProcessEnv): string {
  return path.join(env.XDG_STATE_HOME || path.join(env.HOME || homedir(), '.local', 'state'), 'async-messaging');
}

/**
 * The machine's local certificate authority and the brokers' certificate for the TLS option (docs/security.md#tls),
 * made by `infra/up` with scripts/tls-certs.sh: `MESSAGING_TLS_DIR`, else `tls` beside the secrets directory.
 * Clients trust `<dir>/ca.crt` (RABBITMQ_CA_FILE, KAFKA_CA_FILE).
 */
export function tlsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MESSAGING_TLS_DIR) return path.resolve(env.MESSAGING_TLS_DIR);
  return path.join(stateDir(env), 'tls');
}

/** Thrown when a secret that only `infra/up` may create (it also registers it with a broker) is missing. */
export class MissingSecretError extends Error {
  override name = 'MissingSecretError';
}

/** Reads the machine secret `name`; throws `MissingSecretError` (saying what to run) when it does not exist. */
export function readMachineSecret(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const file = path.join(secretsDir(env), name);
  try {
    const value = readFileSync(file, 'utf8').trim();
    if (value) return value;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  throw new MissingSecretError(
    `the secret '${name}' is missing from ${file}: run infra/up (it generates the machine's broker passwords), or pass the password in the environment`,
  );
}

/**
 * Reads the machine secret `name`, generating 24 random bytes (base64url) the first time. Two processes racing on
 * the first use agree: the file is created exclusively, and the loser reads the winner's value.
 */
export function machineSecret(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = secretsDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path.join(dir, name), `${randomBytes(24).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readMachineSecret(name, env);
}
