/** What the messaging components report; libs/observability implements it with Prometheus. */
export interface MessagingMetrics {
  consumed(source: string, durationMs: number): void;
  failed(source: string): void;
  retried(source: string): void;
  deadLettered(source: string): void;
  /** This member joined its Kafka consumer group: the group rebalanced. */
  rebalanced?(topic: string, group: string): void;
  /** A delivery was found already handled in the inbox and skipped. */
  duplicate?(source: string): void;
  published(destination: string): void;
  /** A dependency's breaker opened: the consumers of the service pause. */
  paused?(dependency: string): void;
  /** The breaker closed after `pausedMs`: the consumers resume. */
  resumed?(dependency: string, pausedMs: number): void;
  /** A request sent to `destination` got no answer within its timeout (request/reply). */
  requestTimedOut?(destination: string): void;
  /** A reply was dropped: `late` (its request had timed out), `unknown` (no such request), `sender`, `invalid`. */
  replyDropped?(reason: string): void;
}
