import { describe, expect, it } from 'vitest';
import { BrokerUnavailableError, InvalidMessageError } from '../errors.js';
import { classifyFailure, portOf } from './failure-kind.js';

/** An error shaped like the ones `pg` throws: a message and a SQLSTATE in `code`. */
const pgError = (code: string, message = `pg error ${code}`) => Object.assign(new Error(message), { code });
/** A Node socket error as `net` raises it. */
const socketError = (code: string, port: number) =>
  Object.assign(new Error(`connect ${code} 127.0.0.1:${port}`), { code, port, address: '127.0.0.1' });
/** TypeORM wraps the driver's error in a QueryFailedError with `driverError`. */
const queryFailed = (driverError: Error) =>
  Object.assign(new Error(driverError.message), { name: 'QueryFailedError', driverError });

const endpoints = [
  { dependency: 'postgres', port: 5432 },
  { dependency: 'rabbitmq', port: 5672 },
  { dependency: 'kafka', port: 9092 },
] as const;

describe('classifyFailure: an outage is not a poison message', () => {
  it.each([
    ['the database shutting down', pgError('57P01', 'terminating connection due to administrator command')],
    ['the database starting up or in recovery', pgError('57P03', 'the database system is starting up')],
    ['a connection exception', pgError('08006')],
    ['too many connections', pgError('53300')],
    ['a wrapped shutdown (TypeORM)', queryFailed(pgError('57P01'))],
    ['a terminated connection', new Error('Connection terminated unexpectedly')],
    ['a pool that cannot connect in time', new Error('timeout exceeded when trying to connect')],
    ['a refused connection to the database port', socketError('ECONNREFUSED', 5432)],
    [
      'a reset connection as a cause',
      Object.assign(new Error('query failed'), { cause: socketError('ECONNRESET', 5432) }),
    ],
  ])('names the database for %s', (_, error) => {
    expect(classifyFailure(error, endpoints)).toMatchObject({ kind: 'outage', dependency: 'postgres' });
  });

  it('names RabbitMQ for a client that is not connected or blocked', () => {
    expect(classifyFailure(new BrokerUnavailableError('amqp: connection blocked'), endpoints)).toMatchObject({
      kind: 'outage',
      dependency: 'rabbitmq',
    });
  });

  it.each([
    ['a connection error', Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' })],
    [
      'retries used up on a connection error',
      Object.assign(new Error('retries exceeded'), {
        name: 'KafkaJSNumberOfRetriesExceeded',
        cause: Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' }),
      }),
    ],
    [
      'a partition without a leader',
      Object.assign(new Error('no leader'), { name: 'KafkaJSProtocolError', type: 'LEADER_NOT_AVAILABLE' }),
    ],
    ['a refused connection to the broker port', socketError('ECONNREFUSED', 9092)],
  ])('names Kafka for %s', (_, error) => {
    expect(classifyFailure(error, endpoints)).toMatchObject({ kind: 'outage', dependency: 'kafka' });
  });

  it.each([
    ['an invalid message', new InvalidMessageError('body is not JSON')],
    ['a NUL byte the database refuses', pgError('22P05', 'unsupported Unicode escape sequence')],
    ['a number out of range', queryFailed(pgError('22003', 'numeric field overflow'))],
    ['a check constraint', pgError('23514')],
    ['a not-null constraint', pgError('23502')],
  ])('sends %s to the dead letter queue at once', (_, error) => {
    expect(classifyFailure(error, endpoints).kind).toBe('permanent');
  });

  it.each([
    ['a unique violation (a racing message may have won)', pgError('23505')],
    ['a foreign key violation (its parent may arrive later)', pgError('23503')],
    ['a serialization failure', pgError('40001')],
    ['a refused connection to a port that is no known dependency (an SMTP server)', socketError('ECONNREFUSED', 1025)],
    ['an ordinary error', new Error('the payment provider said no')],
    ['something that is not an Error', 'a thrown string'],
  ])('retries %s', (_, error) => {
    expect(classifyFailure(error, endpoints).kind).toBe('transient');
  });

  it('keeps the reason with the error name', () => {
    expect(classifyFailure(pgError('57P01', 'terminating connection'), endpoints).reason).toBe(
      'Error: terminating connection',
    );
  });

  it('reads the port of a dependency URL, with the default when it has none', () => {
    expect(portOf('postgres://u:p@127.0.0.1:6543/db', 5432)).toBe(6543);
    expect(portOf('amqp://u:p@rabbitmq/messaging', 5672)).toBe(5672);
  });
});
