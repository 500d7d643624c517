/** A message a handler failed on, as the consumer sees it. */
export interface Failure {
  /** The queue the message was consumed from. */
  queue: string;
  /** Its `x-retry-count` header: how many delayed retries it has had (absent on the first delivery: 0). */
  retryCount: number;
  /** A permanent failure (a message that can never succeed, such as one that fails its schema) is not retried. */
  permanent: boolean;
  reason: string;
}

/** Where the failed message goes next: an exchange and a routing key, and the headers that change. */
export type Next =
  | { kind: 'retry'; exchange: string; routingKey: string; delayMs: number; retryCount: number }
  | { kind: 'dead-letter'; exchange: string; routingKey: string; retryCount: number; reason: string };

export type DecideFailure = (failure: Failure, delaysMs: readonly number[]) => Next;
