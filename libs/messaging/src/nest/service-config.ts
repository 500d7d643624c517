import path from 'node:path';
import { authKeyFiles } from '../auth/keys.js';
import type { ServiceName } from '../topology.js';
import { parseRateLimit, type RateLimit } from './rate-limit.js';

/** Everything a service reads from its environment; each has a default for the native development stack. */
export interface ServiceConfig {
  service: ServiceName;
  host: string;
  port: number;
  rabbitmqUrl: string;
  kafkaBrokers: string[];
  /** Prefix of topic and group names; empty for the development stack, unique per test run. */
  kafkaPrefix: string;
  databaseUrl: string;
  /** Delays of the delayed retries of every RabbitMQ subscription (tests shorten them). */
  retryDelaysMs?: number[];
  /** Requests per client address and window on the HTTP routes (RATE_LIMIT); undefined when off. */
  rateLimit?: RateLimit;
  /** The public key every service verifies bearer tokens with, and the signing key (used by orders only). */
  auth: { publicKeyFile: string; privateKeyFile: string };
}

/** The names of the environment variables each service reads, so compose and the native stack agree. */
export const CONFIG_ENV = [
  'HOST',
  'PORT',
  'RABBITMQ_URL',
  'KAFKA_BROKERS',
  'KAFKA_PREFIX',
  'DATABASE_URL',
  'RETRY_DELAYS_MS',
  'RATE_LIMIT',
  'AUTH_KEYS_DIR',
  'AUTH_PUBLIC_KEY_FILE',
  'AUTH_PRIVATE_KEY_FILE',
  'LOG_LEVEL',
] as const;

export const DEFAULT_PORTS: Record<ServiceName, number> = {
  orders: 3001,
  inventory: 3002,
  payments: 3003,
  email: 3004,
  analytics: 3005,
  audit: 3006,
};

/** The development password of a service's RabbitMQ user and PostgreSQL role (the native stack only). */
export const devPassword = (service: ServiceName) => `${service}-dev`;

export function readServiceConfig(service: ServiceName, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const port = Number(env.PORT ?? DEFAULT_PORTS[service]);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535)
    throw new Error(`PORT must be a TCP port, got ${env.PORT}`);
  const retry = env.RETRY_DELAYS_MS?.split(',').map(Number);
  if (retry?.some((n) => !Number.isFinite(n) || n < 0))
    throw new Error(`RETRY_DELAYS_MS must be numbers, got ${env.RETRY_DELAYS_MS}`);
  return {
    service,
    // Loopback unless told otherwise (compose sets 0.0.0.0 inside a container, where the port is published on
    // the host's 127.0.0.1 only).
    host: env.HOST ?? '127.0.0.1',
    port,
    rabbitmqUrl: env.RABBITMQ_URL ?? `amqp://${service}:${devPassword(service)}@127.0.0.1:5672/messaging`,
    kafkaBrokers: (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim()),
    kafkaPrefix: env.KAFKA_PREFIX ?? '',
    databaseUrl: env.DATABASE_URL ?? `postgres://${service}:${devPassword(service)}@127.0.0.1:5432/${service}`,
    ...(retry ? { retryDelaysMs: retry } : {}),
    rateLimit: parseRateLimit(env.RATE_LIMIT),
    auth: authConfig(env),
  };
}

/** Where the token keys are: `AUTH_KEYS_DIR` (default `.run/keys` under the working directory), or each file. */
export function authConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig['auth'] {
  const files = authKeyFiles(path.resolve(env.AUTH_KEYS_DIR ?? '.run/keys'));
  return {
    publicKeyFile: env.AUTH_PUBLIC_KEY_FILE ?? files.publicKey,
    privateKeyFile: env.AUTH_PRIVATE_KEY_FILE ?? files.privateKey,
  };
}
