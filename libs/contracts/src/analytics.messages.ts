import { z } from 'zod';

// Records produced by the analytics service. `order-metrics` carries plain records, not envelopes: the
// exactly-once loop writes one per minute and batch, keyed by the minute, and only sums are read from it.

/** One record on the Kafka topic `order-metrics`: what one batch of order events adds to one minute. */
export const OrderMetricsRecordSchema = z.object({
  /** The minute, as `YYYY-MM-DDTHH:MM` in UTC. */
  minute: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/),
  created: z.number().int().nonnegative(),
  confirmed: z.number().int().nonnegative(),
  cancelled: z.number().int().nonnegative(),
  /** Confirmed totals, in cents. */
  revenue: z.number().int().nonnegative(),
});
export type OrderMetricsRecord = z.infer<typeof OrderMetricsRecordSchema>;
