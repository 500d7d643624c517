import path from 'node:path';
import { readFileSync } from 'node:fs';
import { authKeyFiles } from '../auth/keys.js';
import type { KafkaCredentials } from '../kafka/kafka-client.js';
import { machineSecret, readMachineSecret, tlsDir } from '../secrets.js';
import type { ServiceName } from '../topology.js';
import { formatAmqpNode, parseAmqpNodes, type AmqpNode } from '../amqp/node-ring.js';
import { parseRateLimit, type RateLimit } from './rate-limit.js';

/** Everything a service reads from its environment; each has a default for the native development stack. */
export interface ServiceConfig {
  service: ServiceName;
  host: string;
  port: number;
  rabbitmqUrl: string;
  /**
   * RABBITMQ_CLUSTER_NODES (`host:port,host:port,...`): the nodes of a RabbitMQ cluster. The service connects to the
   * first with the url's user, password and vhost, and fails over to the next when a connection is refused or lost
   * (docs/clusters.md). Absent: the url's host only.
   */
  rabbitmqNodes?: AmqpNode[];
  /** The CA certificate (PEM) an amqps:// broker's certificate is checked against (RABBITMQ_CA_FILE). */
  rabbitmqCa?: string;
  kafkaBrokers: string[];
  /** TLS to Kafka (SASL_SSL): KAFKA_TLS=true, or KAFKA_CA_FILE, whose CA then verifies the brokers. */
  kafkaTls?: { ca?: string };
  /** Prefix of topic and group names; empty for the development stack, unique per test run. */
  kafkaPrefix: string;
  /** The service's Kafka principal and password, read when first needed (docs/security.md). */
  kafkaCredentials(): KafkaCredentials;
  databaseUrl: string;
  /** Delays of the delayed retries of every RabbitMQ subscription (tests shorten them). */
  retryDelaysMs?: number[];
  /**
   * How long a request over RabbitMQ waits for its reply (REQUEST_TIMEOUT_MS, default 2000), which is also the
   * request's per-message TTL (docs/request-reply.md).
   */
  requestTimeoutMs: number;
  /** Requests per client address and window on the HTTP routes (RATE_LIMIT); undefined when off. */
  rateLimit?: RateLimit;
  /** The public key every service verifies bearer tokens with, and the signing key (used by orders only). */
  auth: { publicKeyFile: string; privateKeyFile: string };
}

/** The names of the environment variables each service reads, so compose and the native stack agree. */
export const CONFIG_ENV = [
  'HOST',
  'PORT',
  'MESSAGING_TLS',
  'RABBITMQ_URL',
  'RABBITMQ_CLUSTER_NODES',
  'RABBITMQ_CA_FILE',
  'KAFKA_BROKERS',
  'KAFKA_TLS',
  'KAFKA_CA_FILE',
  'KAFKA_PREFIX',
  'KAFKA_USERNAME',
  'KAFKA_PASSWORD',
  'KAFKA_PASSWORD_FILE',
  'KAFKA_SASL_MECHANISM',
  'DATABASE_URL',
  'RETRY_DELAYS_MS',
  'RATE_LIMIT',
  'REQUEST_TIMEOUT_MS',
  'AUTH_KEYS_DIR',
  'AUTH_PUBLIC_KEY_FILE',
  'AUTH_PRIVATE_KEY_FILE',
  'LOG_LEVEL',
] as const;

/** How long a request over RabbitMQ waits for its reply unless REQUEST_TIMEOUT_MS says otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 2_000;

export const DEFAULT_PORTS: Record<ServiceName, number> = {
  orders: 3001,
  inventory: 3002,
  payments: 3003,
  email: 3004,
  analytics: 3005,
  audit: 3006,
};

/**
 * A RabbitMQ user's or PostgreSQL role's password on the native stack: the machine secret `rabbitmq-<user>` or
 * `postgres-<user>` (libs/messaging/src/secrets.ts), generated on first use. `infra/up` sets the PostgreSQL roles'
 * and the RabbitMQ admin's passwords from the same files, the provisioner the RabbitMQ service users'.
 */
export function nativePassword(
  system: 'rabbitmq' | 'postgres',
  user: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return machineSecret(`${system}-${user}`, env);
}

export function readServiceConfig(service: ServiceName, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const port = Number(env.PORT ?? DEFAULT_PORTS[service]);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535)
    throw new Error(`PORT must be a TCP port, got ${env.PORT}`);
  const retry = env.RETRY_DELAYS_MS?.split(',').map(Number);
  if (retry?.some((n) => !Number.isFinite(n) || n < 0))
    throw new Error(`RETRY_DELAYS_MS must be numbers, got ${env.RETRY_DELAYS_MS}`);
  const requestTimeoutMs = Number(env.REQUEST_TIMEOUT_MS ?? DEFAULT_REQUEST_TIMEOUT_MS);
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1 || requestTimeoutMs > 60_000)
    throw new Error(`REQUEST_TIMEOUT_MS must be whole milliseconds from 1 to 60000, got ${env.REQUEST_TIMEOUT_MS}`);
  const rabbitmqNodes = env.RABBITMQ_CLUSTER_NODES ? parseAmqpNodes(env.RABBITMQ_CLUSTER_NODES) : undefined;
  const firstNode = rabbitmqNodes?.[0];
  return {
    service,
    // Loopback unless told otherwise (compose sets 0.0.0.0 inside a container, where the port is published on
    // the host's 127.0.0.1 only).
    host: env.HOST ?? '127.0.0.1',
    port,
    rabbitmqUrl:
      env.RABBITMQ_URL ??
      `${nativeTls(env) ? 'amqps://' : 'amqp://'}${service}:${nativePassword('rabbitmq', service, env)}` +
        (firstNode
          ? `@${formatAmqpNode(firstNode)}/messaging`
          : `@127.0.0.1:${nativeTls(env) ? 5671 : 5672}/messaging`),
    ...(rabbitmqNodes ? { rabbitmqNodes } : {}),
    ...rabbitmqCa(env),
    kafkaBrokers: kafkaBrokers(env),
    ...kafkaTlsConfig(env),
    kafkaPrefix: env.KAFKA_PREFIX ?? '',
    kafkaCredentials: () => kafkaCredentials(service, env),
    databaseUrl:
      env.DATABASE_URL ?? `postgres://${service}:${nativePassword('postgres', service, env)}@127.0.0.1:5432/${service}`,
    ...(retry ? { retryDelaysMs: retry } : {}),
    requestTimeoutMs,
    rateLimit: parseRateLimit(env.RATE_LIMIT),
    auth: authConfig(env),
  };
}

/**
 * The native stack's TLS option, `MESSAGING_TLS=1` (docs/security.md#tls): the defaults become the loopback TLS
 * listeners infra/up opens beside the plain ones (amqps on 5671, SASL_SSL on 9094), checked against the machine's
 * local CA (`tlsDir()/ca.crt`). Explicit RABBITMQ_URL, KAFKA_BROKERS and *_CA_FILE still win.
 */
export function nativeTls(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.MESSAGING_TLS;
  if (value === undefined || value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw new Error(`MESSAGING_TLS must be 1 or 0, got ${value}`);
}

/**
 * Whether the process consumes its subscriptions: `SERVICE_CONSUMERS=off` runs the API alone (pattern: intake apart
 * from the workers); unset or `on`, both.
 */
export function consumersOn(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.SERVICE_CONSUMERS;
  if (value === undefined || value === 'on') return true;
  if (value === 'off') return false;
  throw new Error(`SERVICE_CONSUMERS must be on or off (got ${value})`);
}

const nativeCaFile = (env: NodeJS.ProcessEnv) => path.join(tlsDir(env), 'ca.crt');

/** KAFKA_BROKERS, else the native broker: 127.0.0.1:9092, or its TLS listener 127.0.0.1:9094 under MESSAGING_TLS. */
export function kafkaBrokers(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.KAFKA_BROKERS ?? (nativeTls(env) ? '127.0.0.1:9094' : '127.0.0.1:9092')).split(',').map((b) => b.trim());
}

/** RABBITMQ_CA_FILE, else the machine's CA under MESSAGING_TLS: what an amqps broker's certificate is checked against. */
function rabbitmqCa(env: NodeJS.ProcessEnv): Pick<ServiceConfig, 'rabbitmqCa'> {
  const file = env.RABBITMQ_CA_FILE || (nativeTls(env) ? nativeCaFile(env) : undefined);
  return file ? { rabbitmqCa: readFileSync(file, 'utf8') } : {};
}

/**
 * `KAFKA_TLS=true` or `KAFKA_CA_FILE` (or MESSAGING_TLS natively): the Kafka client's `tls` (SASL_SSL), as
 * ServiceConfig's `kafkaTls`.
 */
export function kafkaTlsConfig(env: NodeJS.ProcessEnv = process.env): Pick<ServiceConfig, 'kafkaTls'> {
  const caFile = env.KAFKA_CA_FILE || (nativeTls(env) ? nativeCaFile(env) : undefined);
  if (caFile) return { kafkaTls: { ca: readFileSync(caFile, 'utf8') } };
  if (env.KAFKA_TLS === undefined || env.KAFKA_TLS === '' || env.KAFKA_TLS === 'false') return {};
  if (env.KAFKA_TLS !== 'true') throw new Error(`KAFKA_TLS must be true or false, got ${env.KAFKA_TLS}`);
  return { kafkaTls: {} };
}

/** Where the token keys are: `AUTH_KEYS_DIR` (default `.run/keys` under the working directory), or each file. */
export function authConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig['auth'] {
  const files = authKeyFiles(path.resolve(env.AUTH_KEYS_DIR ?? '.run/keys'));
  return {
    publicKeyFile: env.AUTH_PUBLIC_KEY_FILE ?? files.publicKey,
    privateKeyFile: env.AUTH_PRIVATE_KEY_FILE ?? files.privateKey,
  };
}

/**
 * A service's Kafka login: the principal `KAFKA_USERNAME` (default: the service's name) with `KAFKA_PASSWORD`, or
 * the password in the file `KAFKA_PASSWORD_FILE` (a mounted secret), or natively the machine secret
 * `kafka-<principal>` that infra/up generated and registered with the broker (libs/messaging/src/secrets.ts).
 */
export function kafkaCredentials(service: ServiceName, env: NodeJS.ProcessEnv = process.env): KafkaCredentials {
  const username = env.KAFKA_USERNAME || service;
  const password =
    env.KAFKA_PASSWORD ||
    (env.KAFKA_PASSWORD_FILE
      ? readFileSync(env.KAFKA_PASSWORD_FILE, 'utf8').trim()
      : readMachineSecret(`kafka-${username}`, env));
  return { username, password, ...saslMechanism(env) };
}

/** `KAFKA_SASL_MECHANISM`: `scram-sha-256` (the default) or `scram-sha-512`. */
function saslMechanism(env: NodeJS.ProcessEnv): Pick<KafkaCredentials, 'mechanism'> {
  const mechanism = env.KAFKA_SASL_MECHANISM;
  if (!mechanism) return {};
  if (mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512')
    throw new Error(`KAFKA_SASL_MECHANISM must be scram-sha-256 or scram-sha-512, got ${mechanism}`);
  return { mechanism };
}

/** The Kafka principal of provisioning and tools (a super user): never given to a service. */
export const KAFKA_ADMIN_PRINCIPAL = 'messaging-admin';

/** The admin's Kafka login: `KAFKA_ADMIN_USERNAME`/`KAFKA_ADMIN_PASSWORD`, or natively the machine secret. */
export function kafkaAdminCredentials(env: NodeJS.ProcessEnv = process.env): KafkaCredentials {
  const username = env.KAFKA_ADMIN_USERNAME || KAFKA_ADMIN_PRINCIPAL;
  return {
    username,
    password: env.KAFKA_ADMIN_PASSWORD || readMachineSecret(`kafka-${username}`, env),
    ...saslMechanism(env),
  };
}
