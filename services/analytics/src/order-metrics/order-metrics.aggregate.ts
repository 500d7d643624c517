import type { OrderEvent } from '@am/contracts';

/** What one batch of order events adds to one minute: the record the exactly-once loop produces. */
export interface MinuteDelta {
  /** The minute, as `YYYY-MM-DDTHH:MM` in UTC. */
  minute: string;
  created: number;
  confirmed: number;
  cancelled: number;
  /** Confirmed totals, in cents. */
  revenue: number;
}

/** Sums a batch of events into one delta per minute of `occurredAt`. Pure: same batch, same deltas. */
export function aggregateByMinute(events: readonly OrderEvent[]): MinuteDelta[] {
  const byMinute = new Map<string, MinuteDelta>();
  for (const event of events) {
    const minute = event.occurredAt.slice(0, 16);
    const delta = byMinute.get(minute) ?? { minute, created: 0, confirmed: 0, cancelled: 0, revenue: 0 };
    switch (event.type) {
      case 'order.created':
        delta.created += 1;
        break;
      case 'order.confirmed':
        delta.confirmed += 1;
        delta.revenue += event.data.total;
        break;
      case 'order.cancelled':
        delta.cancelled += 1;
        break;
      default: {
        const _exhaustive: never = event;
        return _exhaustive;
      }
    }
    byMinute.set(minute, delta);
  }
  return [...byMinute.values()].sort((a, b) => a.minute.localeCompare(b.minute));
}

/** Adds deltas together, as a reader of `order-metrics` does. */
export function sumDeltas(deltas: readonly MinuteDelta[]): Omit<MinuteDelta, 'minute'> {
  return deltas.reduce(
    (sum, d) => ({
      created: sum.created + d.created,
      confirmed: sum.confirmed + d.confirmed,
      cancelled: sum.cancelled + d.cancelled,
      revenue: sum.revenue + d.revenue,
    }),
    { created: 0, confirmed: 0, cancelled: 0, revenue: 0 },
  );
}
