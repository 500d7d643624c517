import { Exchanges, deadLetterQueue, retryQueue } from '@am/messaging';
import type { Failure, Next } from '../04-retry-or-dead-letter/types.js';

/** Reference solution: the rule of the project's consumer (`fail` in libs/messaging/src/amqp/amqp-consumer.ts). */
export function decideFailure(failure: Failure, delaysMs: readonly number[]): Next {
  const delay = delaysMs[failure.retryCount];
  if (failure.permanent || delay === undefined) {
    return {
      kind: 'dead-letter',
      exchange: Exchanges.deadLetters,
      routingKey: deadLetterQueue(failure.queue),
      retryCount: failure.retryCount,
      reason: failure.reason,
    };
  }
  return {
    kind: 'retry',
    exchange: Exchanges.retries,
    routingKey: retryQueue(failure.queue, failure.retryCount + 1),
    delayMs: delay,
    retryCount: failure.retryCount + 1,
  };
}
