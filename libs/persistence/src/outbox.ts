import type { EntityManager } from 'typeorm';
import { traceHeaders } from '@am/observability';

/** Where an outbox row goes: a RabbitMQ exchange and routing key, or a Kafka topic and key. */
export type OutboxDestination =
  { broker: 'amqp'; exchange: string; routingKey: string } | { broker: 'kafka'; topic: string; key: string };

/** A message waiting in the outbox. `payload` is the complete envelope. */
export interface OutboxMessage {
  destination: OutboxDestination;
  messageId: string;
  type: string;
  payload: unknown;
  headers?: Record<string, string>;
}

/** A row read back by the relay. */
export interface OutboxRow extends OutboxMessage {
  id: string;
}

/**
 * Pattern: transactional outbox. Adds messages to the outbox inside the caller's transaction, so that they
 * are sent if and only if the state change commits. Each row keeps the trace context active here (its
 * `traceparent` header, unless the message brings its own), so the relay publishes it in the same trace.
 */
export async function addToOutbox(manager: EntityManager, messages: readonly OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const trace = traceHeaders();
  const values: unknown[] = [];
  const rows = messages.map((m, i) => {
    const d = m.destination;
    values.push(
      m.messageId,
      d.broker,
      d.broker === 'amqp' ? d.exchange : d.topic,
      d.broker === 'amqp' ? d.routingKey : d.key,
      m.type,
      JSON.stringify(m.payload),
      JSON.stringify({ ...trace, ...m.headers }),
    );
    const b = i * 7;
    return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}::jsonb, $${b + 7}::jsonb)`;
  });
  await manager.query(
    `INSERT INTO outbox (message_id, broker, destination, routing_key, message_type, payload, headers)
     VALUES ${rows.join(', ')}`,
    values,
  );
}

interface OutboxRecord {
  id: string;
  message_id: string;
  broker: 'amqp' | 'kafka';
  destination: string;
  routing_key: string;
  message_type: string;
  payload: unknown;
  headers: Record<string, string>;
}

/**
 * Locks up to `limit` unsent rows for this relay. `SKIP LOCKED` lets several relays share the table: no row is
 * taken by two at once, and none is skipped because of gaps in the id sequence (there is no cursor).
 */
export async function lockUnsent(manager: EntityManager, limit: number): Promise<OutboxRow[]> {
  const records: OutboxRecord[] = await manager.query(
    `SELECT id, message_id, broker, destination, routing_key, message_type, payload, headers
       FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return records.map((r) => ({
    id: r.id,
    messageId: r.message_id,
    type: r.message_type,
    payload: r.payload,
    headers: r.headers,
    destination:
      r.broker === 'amqp'
        ? { broker: 'amqp', exchange: r.destination, routingKey: r.routing_key }
        : { broker: 'kafka', topic: r.destination, key: r.routing_key },
  }));
}

export async function markSent(manager: EntityManager, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await manager.query('UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])', [ids]);
}

/** Number of rows not yet sent and the age of the oldest, for the outbox-lag metric and health. */
export async function outboxBacklog(manager: EntityManager): Promise<{ unsent: number; oldestSeconds: number }> {
  const [row] = await manager.query<{ unsent: number; oldest: number }[]>(
    `SELECT count(*)::int AS unsent,
            coalesce(extract(epoch FROM now() - min(created_at)), 0)::float AS oldest
       FROM outbox WHERE sent_at IS NULL`,
  );
  return { unsent: row?.unsent ?? 0, oldestSeconds: row?.oldest ?? 0 };
}
