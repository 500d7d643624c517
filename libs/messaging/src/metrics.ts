/** What the messaging components report; libs/observability implements it with Prometheus. */
export interface MessagingMetrics {
  consumed(source: string, durationMs: number): void;
  failed(source: string): void;
  retried(source: string): void;
  deadLettered(source: string): void;
  published(destination: string): void;
}
