import { UnsafeConfigurationError } from '../errors.js';
import { MAX_RETRIES, ORDER_FLOW_HANDLERS } from '../topology.js';

/**
 * When a consumer acknowledges, relative to its work (the article's "Delivery guarantees"):
 * - `at-least-once`: work first, then ack. A crash before the ack redelivers the message; the inbox makes the
 *   second delivery a no-op. The default, and the only choice for anything that matters.
 * - `at-most-once`: ack first, then work. A crash during the work loses the message. For metrics and other
 *   data where a loss is cheaper than a duplicate.
 */
export type DeliveryMode = 'at-least-once' | 'at-most-once';

/** Delivery policy of one consumed queue, declared beside its handlers (STYLE 8). */
export interface AmqpSubscription {
  queue: string;
  /** Unacknowledged messages in flight at once: the load-leveling knob. */
  prefetch: number;
  delivery: DeliveryMode;
  /** Delay before each retry; its length is the number of retries before the dead letter queue. */
  retryDelaysMs: readonly number[];
  /** Set to true only to show what goes wrong: the broker forgets messages as soon as it sends them. */
  autoAck?: boolean;
  /**
   * The capacity knob of the load-leveling experiments: at most this many messages handled per second by this
   * consumer (a token bucket in front of the handler). Unset: as fast as prefetch and the handler allow.
   */
  maxPerSecond?: number;
  /**
   * Where a message goes when its retries are used up. `true` (the default): its `-dlq` queue. `false`: back to
   * its own queue after a pause, for consumers that are themselves the end of the line (the dead letter store).
   */
  deadLetter?: boolean;
  /**
   * Pattern: batched consumer. Deliveries that arrive together are handled up to `maxSize` at a time in one
   * transaction (one inbox claim, one outbox insert, one commit for all of them), `concurrency` batches at once
   * (default 1). A batch that fails is handled again one message at a time. At-least-once only. Unset: one
   * message per transaction.
   */
  batch?: { maxSize: number; concurrency?: number };
  /**
   * The prefix of the handler patterns of this queue's messages: a message of type `t` goes to the handler of
   * `${handlerPrefix}${t}`. For a service that gets one message type on two queues with two meanings (the saga's
   * reply and the choreographed flow's event of the same name). Unset: the handler of the type itself.
   */
  handlerPrefix?: string;
}

export const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 25_000] as const;

/** Fills in defaults and refuses settings that would break the subscription's delivery guarantee. */
export function defineSubscription(
  spec: Pick<AmqpSubscription, 'queue'> & Partial<AmqpSubscription>,
): AmqpSubscription {
  const subscription: AmqpSubscription = {
    prefetch: 10,
    delivery: 'at-least-once',
    retryDelaysMs: DEFAULT_RETRY_DELAYS_MS,
    ...spec,
  };
  // The bench's switch, to measure batches against one transaction per message in the same run.
  if (process.env.AMQP_BATCHES === 'off') delete subscription.batch;
  validateSubscription(subscription);
  return subscription;
}

/**
 * A service's queue on the choreographed order flow: batches of up to 50 in one transaction, one at a time (as the
 * saga's busy queues), the library's retries and dead letter queue, and the flow's handler prefix.
 */
export function defineOrderFlowSubscription(queue: string): AmqpSubscription {
  return defineSubscription({ queue, prefetch: 50, batch: { maxSize: 50 }, handlerPrefix: ORDER_FLOW_HANDLERS });
}

export function validateSubscription(s: AmqpSubscription): void {
  if (s.autoAck && s.delivery === 'at-least-once') {
    throw new UnsafeConfigurationError(
      `subscription ${s.queue}: auto-ack cannot give at-least-once delivery (the broker drops a message as soon ` +
        `as it is sent, so a crash loses it). Remove autoAck, or declare delivery 'at-most-once'.`,
    );
  }
  if (!Number.isInteger(s.prefetch) || s.prefetch < 1 || s.prefetch > 1_000) {
    throw new UnsafeConfigurationError(
      `subscription ${s.queue}: prefetch must be an integer from 1 to 1000 (got ${s.prefetch}); ` +
        `0 means unbounded and lets one consumer take the whole queue into memory`,
    );
  }
  if (s.maxPerSecond !== undefined && !(s.maxPerSecond > 0)) {
    throw new UnsafeConfigurationError(
      `subscription ${s.queue}: maxPerSecond must be positive (got ${s.maxPerSecond})`,
    );
  }
  if (s.batch !== undefined) {
    const { maxSize, concurrency = 1 } = s.batch;
    if (s.delivery !== 'at-least-once' || s.autoAck) {
      throw new UnsafeConfigurationError(
        `subscription ${s.queue}: batches are for at-least-once delivery (a batch is acknowledged after its commit)`,
      );
    }
    if (!Number.isInteger(maxSize) || maxSize < 1 || maxSize > s.prefetch) {
      throw new UnsafeConfigurationError(
        `subscription ${s.queue}: batch.maxSize must be an integer from 1 to the prefetch, ${s.prefetch} (got ${maxSize})`,
      );
    }
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new UnsafeConfigurationError(
        `subscription ${s.queue}: batch.concurrency must be a positive integer (got ${concurrency})`,
      );
    }
  }
  if (s.retryDelaysMs.length > MAX_RETRIES) {
    throw new UnsafeConfigurationError(
      `subscription ${s.queue}: ${s.retryDelaysMs.length} retries, but the topology has ${MAX_RETRIES} retry queues`,
    );
  }
}
