import { deadLetterQueue, defineSubscription, queues, type AmqpSubscription } from '@am/messaging';

/**
 * One raw subscription per dead letter queue of the topology (`order-processing-dlq`, `payment.process-dlq`, …).
 *
 * Raw, because a dead letter is often not a valid envelope (that may be why it is here), so it cannot go
 * through the validating transport. A small prefetch, because a dead letter can be as large as the broker
 * allows (10 MB and more) and each one in flight is held in memory. No retry delays: a dead letter queue is
 * the end of the line and has no retry queues (`deadLetter: false`); a failed store is retried in place by the
 * handler, and if it still fails the message goes back to its queue after a pause (never acknowledged as if
 * stored).
 */
export const deadLetterQueueSubscriptions: AmqpSubscription[] = queues.map((q) =>
  defineSubscription({ queue: deadLetterQueue(q.name), prefetch: 5, retryDelaysMs: [], deadLetter: false }),
);

/** The queue a dead letter came from: its dead letter queue's name without `-dlq`, if that is a topology queue. */
export function originalQueueOf(deadLetterQueueName: string): string | undefined {
  return queues.find((q) => deadLetterQueue(q.name) === deadLetterQueueName)?.name;
}
