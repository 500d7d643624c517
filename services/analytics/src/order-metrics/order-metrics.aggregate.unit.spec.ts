import { describe, expect, it } from 'vitest';
import { OrderCancelled, OrderConfirmed, OrderCreated } from '@am/contracts';
import { aggregateByMinute, sumDeltas } from './order-metrics.aggregate.js';

const orderId = '8b0a3a6e-0a8a-4c41-9a0e-3f0f3b8f1a01';
const at = (iso: string) => ({ correlationId: orderId, occurredAt: new Date(iso) });
const items = [{ sku: 'S', quantity: 1, unitPrice: 500 }];

describe('per-minute order metrics', () => {
  it('sums a batch into one delta per minute, revenue from confirmed orders only', () => {
    const deltas = aggregateByMinute([
      OrderCreated.create({ orderId, userId: 'u', items, total: 500 }, at('2026-11-29T10:00:05Z')),
      OrderConfirmed.create({ orderId, userId: 'u', total: 500 }, at('2026-11-29T10:00:59Z')),
      OrderCreated.create({ orderId, userId: 'u', items, total: 700 }, at('2026-11-29T10:01:00Z')),
      OrderCancelled.create({ orderId, userId: 'u', total: 700, reason: 'timeout' }, at('2026-11-29T10:01:30Z')),
    ]);
    expect(deltas).toEqual([
      { minute: '2026-11-29T10:00', created: 1, confirmed: 1, cancelled: 0, revenue: 500 },
      { minute: '2026-11-29T10:01', created: 1, confirmed: 0, cancelled: 1, revenue: 0 },
    ]);
    expect(sumDeltas(deltas)).toEqual({ created: 2, confirmed: 1, cancelled: 1, revenue: 500 });
  });

  it('gives nothing for an empty batch', () => {
    expect(aggregateByMinute([])).toEqual([]);
  });
});
