import { BrokerUnavailableError, InvalidMessageError } from '../errors.js';

/** A dependency a consumer needs to handle a message; its breaker pauses consumption while it is down. */
export type Dependency = 'postgres' | 'rabbitmq' | 'kafka';

/** Where a dependency listens, so that a bare socket error (`ECONNREFUSED 127.0.0.1:5432`) can be named. */
export interface DependencyEndpoint {
  dependency: Dependency;
  port: number;
}

/**
 * What a handler failure says about the message (pattern: tell an outage from a poison message):
 * - `outage`: a dependency is unavailable. Not the message's fault: it does not count as a retry and never
 *   dead-letters; the consumer pauses until the dependency answers again.
 * - `permanent`: the message can never succeed (invalid data, a constraint no retry can satisfy): dead letter
 *   queue at once, with the reason.
 * - `transient`: anything else; delayed retries, then the dead letter queue.
 */
export type FailureKind =
  | { kind: 'outage'; dependency: Dependency; reason: string }
  | { kind: 'permanent'; reason: string }
  | { kind: 'transient'; reason: string };

/** Socket-level errors: the peer is gone, refused, or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs that mean the database is unavailable: class 08 (connection exception), 57P01-57P03 (admin or
 * crash shutdown, cannot connect now: starting up or in recovery), 53300 (too many connections).
 */
const isPostgresOutageCode = (code: string) =>
  code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';

/**
 * SQLSTATEs no retry can fix: class 22 (data exception: bad text, numbers out of range, a NUL byte), 23502
 * (not null) and 23514 (check). A unique (23505) or foreign key (23503) violation may clear up once a racing
 * or earlier message has been handled, so those stay transient.
 */
const isPostgresPermanentCode = (code: string) => code.startsWith('22') || code === '23502' || code === '23514';

/** Messages of the `pg` client and pool when the server went away or cannot be reached. */
const POSTGRES_OUTAGE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'is not queryable',
];

/** kafkajs errors (and the client's own send timeout) that mean the cluster or the partition's leader cannot be reached now. */
const KAFKA_OUTAGE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSNoBrokerAvailableError',
  'KafkaSendTimeoutError',
]);
const KAFKA_OUTAGE_PROTOCOL_TYPES = new Set([
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'NOT_COORDINATOR_FOR_GROUP',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'REQUEST_TIMED_OUT',
]);

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  port?: unknown;
  type?: unknown;
  cause?: unknown;
  driverError?: unknown;
  originalError?: unknown;
  errors?: unknown;
}

const asErrorLike = (value: unknown): ErrorLike | undefined =>
  typeof value === 'object' && value !== null ? value : undefined;

/** The error and everything it wraps (TypeORM's `driverError`, `cause`, kafkajs' `originalError`, AggregateError). */
function* chain(error: unknown, depth = 0): Generator<ErrorLike> {
  const e = asErrorLike(error);
  if (!e || depth > 8) return;
  yield e;
  for (const inner of [e.driverError, e.cause, e.originalError])
    if (inner !== undefined) yield* chain(inner, depth + 1);
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* chain(inner, depth + 1);
}

function describe(error: unknown): string {
  const e = asErrorLike(error);
  if (!e) return String(error);
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const message = typeof e.message === 'string' ? e.message : String(error);
  return `${name}: ${message}`;
}

function outageOf(e: ErrorLike, endpoints: readonly DependencyEndpoint[]): Dependency | undefined {
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';
  const code = typeof e.code === 'string' ? e.code : '';
  if (e instanceof BrokerUnavailableError) return 'rabbitmq';
  if (KAFKA_OUTAGE_NAMES.has(name)) return 'kafka';
  if (name === 'KafkaJSProtocolError' && typeof e.type === 'string' && KAFKA_OUTAGE_PROTOCOL_TYPES.has(e.type))
    return 'kafka';
  if (/^[0-9A-Z]{5}$/.test(code) && isPostgresOutageCode(code)) return 'postgres';
  if (POSTGRES_OUTAGE_MESSAGES.some((m) => message.includes(m))) return 'postgres';
  if (NETWORK_CODES.has(code)) {
    const port = typeof e.port === 'number' ? e.port : undefined;
    return endpoints.find((endpoint) => endpoint.port === port)?.dependency;
  }
  return undefined;
}

/**
 * Classifies a handler failure. `endpoints` names the dependencies behind bare socket errors; a socket error to
 * anything else (an SMTP server, say) stays transient, so retries and the dead letter queue still apply.
 */
export function classifyFailure(error: unknown, endpoints: readonly DependencyEndpoint[] = []): FailureKind {
  const reason = describe(error);
  const links = [...chain(error)];
  for (const e of links) {
    const dependency = outageOf(e, endpoints);
    if (dependency) return { kind: 'outage', dependency, reason };
  }
  if (error instanceof InvalidMessageError) return { kind: 'permanent', reason };
  for (const e of links) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (/^[0-9A-Z]{5}$/.test(code) && isPostgresPermanentCode(code)) return { kind: 'permanent', reason };
  }
  return { kind: 'transient', reason };
}

/** The port of a `scheme://user:pass@host:port/...` URL, or the scheme's default. */
export function portOf(url: string, fallback: number): number {
  try {
    const port = new URL(url).port;
    return port === '' ? fallback : Number(port);
  } catch {
    return fallback;
  }
}
