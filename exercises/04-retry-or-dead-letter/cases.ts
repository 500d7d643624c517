import { expect } from 'vitest';
import { DEFAULT_RETRY_DELAYS_MS, Exchanges, Queues } from '@am/messaging';
import type { Cases } from '../lib.js';
import type { DecideFailure, Failure } from './types.js';

const failure = (retryCount: number, permanent = false): Failure => ({
  queue: Queues.paymentProcess,
  retryCount,
  permanent,
  reason: 'Error: database unavailable',
});

export const cases: Cases<DecideFailure> = {
  'the first failure waits 1 s in the first retry queue, through the retries exchange': (decide) => {
    expect(decide(failure(0), DEFAULT_RETRY_DELAYS_MS)).toEqual({
      kind: 'retry',
      exchange: Exchanges.retries,
      routingKey: 'payment.process-retry-1',
      delayMs: 1_000,
      retryCount: 1,
    });
  },
  'each later failure waits longer, in the next retry queue': (decide) => {
    expect(decide(failure(1), DEFAULT_RETRY_DELAYS_MS)).toMatchObject({
      routingKey: 'payment.process-retry-2',
      delayMs: 5_000,
      retryCount: 2,
    });
    expect(decide(failure(2), DEFAULT_RETRY_DELAYS_MS)).toMatchObject({
      routingKey: 'payment.process-retry-3',
      delayMs: 25_000,
      retryCount: 3,
    });
  },
  'after the last delay, the dead letter queue, with the reason and the retries it had': (decide) => {
    expect(decide(failure(3), DEFAULT_RETRY_DELAYS_MS)).toEqual({
      kind: 'dead-letter',
      exchange: Exchanges.deadLetters,
      routingKey: 'payment.process-dlq',
      retryCount: 3,
      reason: 'Error: database unavailable',
    });
  },
  'a permanent failure goes to the dead letter queue at once: retrying it only delays the inevitable': (decide) => {
    expect(decide(failure(0, true), DEFAULT_RETRY_DELAYS_MS)).toMatchObject({
      kind: 'dead-letter',
      routingKey: 'payment.process-dlq',
      retryCount: 0,
    });
  },
  'follows the delays it is given (tests shorten them), never a retry queue past the last': (decide) => {
    expect(decide(failure(0), [10, 20])).toMatchObject({ kind: 'retry', delayMs: 10 });
    expect(decide(failure(1), [10, 20])).toMatchObject({ kind: 'retry', routingKey: 'payment.process-retry-2' });
    expect(decide(failure(2), [10, 20])).toMatchObject({ kind: 'dead-letter' });
    expect(decide(failure(0), [])).toMatchObject({ kind: 'dead-letter' });
  },
};
