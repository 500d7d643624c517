import type { EntityManager } from 'typeorm';
import { traceHeaders } from '@am/observability';
import { markOutboxWritten } from './outbox-commit-signal.js';

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
  const headers = messages.map((m) => ({ ...trace, ...m.headers }));
  const rows = messages.map((m, i) => {
    const d = m.destination;
    values.push(
      m.messageId,
      d.broker,
      d.broker === 'amqp' ? d.exchange : d.topic,
      d.broker === 'amqp' ? d.routingKey : d.key,
      m.type,
      JSON.stringify(m.payload),
      JSON.stringify(headers[i]),
    );
    const b = i * 7;
    return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}::jsonb, $${b + 7}::jsonb)`;
  });
  const inserted = await manager.query<{ id: string; message_id: string }[]>(
    `INSERT INTO outbox (message_id, broker, destination, routing_key, message_type, payload, headers)
     VALUES ${rows.join(', ')} RETURNING id, message_id`,
    values,
  );
  const ids = new Map(inserted.map((r) => [r.message_id, r.id]));
  markOutboxWritten(
    manager.queryRunner,
    manager.connection,
    messages.map((m, i) => ({ ...m, headers: headers[i]!, id: ids.get(m.messageId)! })),
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

/** Runs one statement and returns its rows: a `pg.Client` or pool, wrapped by the caller. */
export type Query = <T>(sql: string, params?: unknown[]) => Promise<T[]>;

/** The claim of the session running the statement: its process id and start time, unique for the server's life. */
const SESSION = `(SELECT pid::text || ':' || backend_start::text FROM pg_stat_activity WHERE pid = pg_backend_pid())`;

/**
 * Claims up to `limit` unsent rows for the relay whose database session runs this, in one statement that
 * commits at once: no transaction stays open while the broker confirms. A row claimed by a session that still
 * exists is left alone (another instance's relay is sending it); a claim whose session has ended (the relay
 * crashed, or lost its connection) is taken over at once. `SKIP LOCKED` keeps two relays claiming at the same
 * moment from waiting for each other. Rows younger than `olderThanMs` are left to the process that wrote them,
 * which publishes them right after its commit.
 */
export async function claimUnsent(query: Query, limit: number, olderThanMs = 0): Promise<OutboxRow[]> {
  const records = await query<OutboxRecord>(
    `WITH me AS MATERIALIZED (SELECT ${SESSION} AS session),
          live AS MATERIALIZED (SELECT pid::text || ':' || backend_start::text AS session FROM pg_stat_activity
                                 WHERE backend_start IS NOT NULL)
     UPDATE outbox SET claimed_by = (SELECT session FROM me)
      WHERE id IN (SELECT id FROM outbox
                    WHERE sent_at IS NULL
                      AND created_at < now() - make_interval(secs => $2)
                      AND (claimed_by IS NULL OR claimed_by NOT IN (SELECT session FROM live))
                    ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING id, message_id, broker, destination, routing_key, message_type, payload, headers`,
    [limit, olderThanMs / 1000],
  );
  return records
    .sort((a, b) => Number(a.id) - Number(b.id))
    .map((r) => ({
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

/**
 * Of rows a transaction reported after its commit, those that are in the table and nobody has sent or claimed:
 * a savepoint rolled back inside that transaction may have removed some. A read, no commit.
 */
export async function committedUnsent(query: Query, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await query<{ id: string }>(
    'SELECT id FROM outbox WHERE id = ANY($1::bigint[]) AND sent_at IS NULL AND claimed_by IS NULL',
    [ids],
  );
  return new Set(rows.map((r) => String(r.id)));
}

/** Marks claimed rows sent (after the broker confirmed them). */
export async function markSent(query: Query, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await query('UPDATE outbox SET sent_at = now(), claimed_by = NULL WHERE id = ANY($1::bigint[])', [ids]);
}

/** Gives claimed rows back (the broker refused them or is away), so the next batch takes them again. */
export async function releaseClaims(query: Query, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await query('UPDATE outbox SET claimed_by = NULL WHERE id = ANY($1::bigint[]) AND sent_at IS NULL', [ids]);
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
