import { describe, expect, it } from 'vitest';
import { OrderCreated } from '@am/contracts';
import { TRACEPARENT, parseTraceparent, withSpan } from '@am/observability';
import { KafkaHeaders, recordFor } from './kafka/kafka-client.js';

const envelope = OrderCreated.create(
  {
    orderId: '00000000-0000-4000-8000-000000000001',
    userId: 'user-1',
    items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }],
    total: 100,
  },
  { correlationId: 'order-1' },
);
const rowTraceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace context in Kafka record headers', () => {
  it('carries the envelope headers, and no traceparent outside a trace', () => {
    const record = recordFor('order-events', 'k', envelope);
    expect(record.headers).toEqual({
      [KafkaHeaders.eventType]: envelope.type,
      [KafkaHeaders.correlationId]: 'order-1',
      [KafkaHeaders.messageId]: envelope.messageId,
    });
  });

  it('adds the active span as traceparent', async () => {
    await withSpan('send', {}, async (span) => {
      const header = parseTraceparent(recordFor('order-events', 'k', envelope).headers[KafkaHeaders.traceparent]);
      expect(header).toMatchObject({ traceId: span.spanContext().traceId, spanId: span.spanContext().spanId });
    });
  });

  it("keeps an outbox row's own traceparent over the active one", async () => {
    await withSpan('relay', {}, async () => {
      const record = recordFor('order-events', 'k', envelope, { [TRACEPARENT]: rowTraceparent });
      expect(record.headers[KafkaHeaders.traceparent]).toBe(rowTraceparent);
    });
  });
});
