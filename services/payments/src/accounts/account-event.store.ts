import type { EntityManager } from 'typeorm';
import {
  AccountClosed,
  AccountOpened,
  MoneyDeposited,
  MoneyWithdrawn,
  type AccountEventMessage,
  type EnvelopeOrigin,
} from '@am/contracts';
import { z } from 'zod';
import type { AccountEvent, AccountState } from './account.events.js';

/** One event as the store holds it: its place in the stream and in the whole log, and when it happened. */
export interface StoredAccountEvent {
  /** Position in the whole log (all streams); the replay order of a rebuild. */
  position: number;
  streamId: string;
  /** 1 for the first event of the stream, then 2, 3, … with no gaps. */
  version: number;
  event: AccountEvent;
  messageId: string;
  occurredAt: Date;
}

interface EventRow {
  position: string;
  stream_id: string;
  version: number;
  type: string;
  data: unknown;
  message_id: string;
  occurred_at: Date;
}

const COLUMNS = 'position, stream_id, version, type, data, message_id, occurred_at';

/**
 * Reads one account's whole stream in version order: its history page and the tests. A command reads its snapshot
 * and the events after it instead (`loadStream`).
 */
export async function readStream(manager: EntityManager, streamId: string): Promise<StoredAccountEvent[]> {
  const rows: EventRow[] = await manager.query(
    `SELECT ${COLUMNS} FROM account_events WHERE stream_id = $1 ORDER BY version`,
    [streamId],
  );
  return rows.map(fromRow);
}

/** Reads a page of the whole log in (stream, version) order, after the given cursor (keyset pagination). */
export async function readAllStreams(
  manager: EntityManager,
  after: { streamId: string; version: number } | undefined,
  limit: number,
): Promise<StoredAccountEvent[]> {
  const rows: EventRow[] = after
    ? await manager.query(
        `SELECT ${COLUMNS} FROM account_events WHERE (stream_id, version) > ($1, $2)
          ORDER BY stream_id, version LIMIT $3`,
        [after.streamId, after.version, limit],
      )
    : await manager.query(`SELECT ${COLUMNS} FROM account_events ORDER BY stream_id, version LIMIT $1`, [limit]);
  return rows.map(fromRow);
}

/**
 * The layout of `account_snapshots.state`. Change it together with `AccountState` and bump the number: snapshots of
 * another layout are then ignored (the stream is folded from its first event) and replaced as commands run.
 */
export const SNAPSHOT_SCHEMA = 1;
const snapshotState = z.discriminatedUnion('exists', [
  z.object({ exists: z.literal(false) }),
  z.object({ exists: z.literal(true), id: z.string(), name: z.string(), balance: z.number(), isOpen: z.boolean() }),
]);

/** An account as a command needs it: the last snapshot (if any) and the events after it, in version order. */
export interface LoadedStream {
  snapshot?: { version: number; state: AccountState };
  events: StoredAccountEvent[];
}

/**
 * Reads an account for a command in one round trip: its snapshot of this code's layout, and the events after the
 * snapshot's version (all of them when there is none). What the command folds is bounded by how often snapshots
 * are taken, not by the account's history (`account-command.runner.ts`).
 */
export async function loadStream(manager: EntityManager, streamId: string): Promise<LoadedStream> {
  const rows: (Partial<EventRow> & { snapshot_version: number | null; snapshot_state: unknown })[] =
    await manager.query(
      `SELECT s.version AS snapshot_version, s.state AS snapshot_state,
              e.position, e.stream_id, e.version, e.type, e.data, e.message_id, e.occurred_at
         FROM (SELECT $1::text AS id) k
         LEFT JOIN account_snapshots s ON s.stream_id = k.id AND s.schema = $2
         LEFT JOIN account_events e ON e.stream_id = k.id AND e.version > COALESCE(s.version, 0)
        ORDER BY e.version`,
      [streamId, SNAPSHOT_SCHEMA],
    );
  const first = rows[0];
  const snapshot =
    first?.snapshot_version != null
      ? { version: first.snapshot_version, state: snapshotState.parse(first.snapshot_state) }
      : undefined;
  const events = rows.filter((r) => r.position != null).map((r) => fromRow(r as EventRow));
  return { snapshot, events };
}

/**
 * Stores the state of a stream at `version` as its snapshot, in the caller's transaction (so it commits with the
 * events it summarizes, or not at all). A snapshot never moves back: a later one already stored is kept.
 */
export async function saveSnapshot(
  manager: EntityManager,
  streamId: string,
  version: number,
  state: AccountState,
): Promise<void> {
  await manager.query(
    `INSERT INTO account_snapshots (stream_id, version, schema, state) VALUES ($1, $2, $3, $4::jsonb)
     ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version, schema = EXCLUDED.schema,
       state = EXCLUDED.state, taken_at = now()
     WHERE account_snapshots.version < EXCLUDED.version OR account_snapshots.schema <> EXCLUDED.schema`,
    [streamId, version, SNAPSHOT_SCHEMA, JSON.stringify(state)],
  );
}

/**
 * Appends events to a stream that the caller has read at `expectedVersion` (pattern: optimistic concurrency).
 * The events get the versions that follow. If another writer has appended in between, the unique
 * (stream_id, version) stops the insert and this throws `StreamVersionConflictError`: the caller must read
 * the stream again and decide again.
 *
 * `ON CONFLICT … DO NOTHING` turns the unique violation into "no row inserted" instead of an error. An error
 * would abort the whole PostgreSQL transaction (which also holds the inbox row of the message being handled)
 * and be logged as a failed query, while a conflict here is an expected, ordinary outcome. Like an error, it
 * waits for a concurrent insert of the same version to commit or roll back before it decides. A multi-event
 * append may have inserted its first events before the conflict, so callers append inside a savepoint and
 * roll it back on a conflict (`account-command.runner.ts`).
 */
export async function appendToStream(
  manager: EntityManager,
  streamId: string,
  expectedVersion: number,
  messages: readonly AccountEventMessage[],
): Promise<void> {
  for (const [i, message] of messages.entries()) {
    const inserted: unknown[] = await manager.query(
      `INSERT INTO account_events (stream_id, version, type, data, message_id, occurred_at)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6)
       ON CONFLICT ON CONSTRAINT account_events_stream_version DO NOTHING
       RETURNING position`,
      [
        streamId,
        expectedVersion + i + 1,
        eventTypeOf(message),
        JSON.stringify(message.data),
        message.messageId,
        message.occurredAt,
      ],
    );
    if (inserted.length === 0) throw new StreamVersionConflictError(streamId, expectedVersion);
  }
}

/**
 * The message that announces an event on the `account-events` topic: envelope type `account.<EventType>`,
 * data as the contract defines it. The same envelope's id is stored with the event, so a republished event
 * keeps its idempotency key.
 */
export function toAccountEventMessage(event: AccountEvent, origin: EnvelopeOrigin): AccountEventMessage {
  switch (event.type) {
    case 'AccountOpened':
      return AccountOpened.create(event.data, origin);
    case 'MoneyDeposited':
      return MoneyDeposited.create(event.data, origin);
    case 'MoneyWithdrawn':
      return MoneyWithdrawn.create(event.data, origin);
    case 'AccountClosed':
      return AccountClosed.create(event.data, origin);
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

/** Another writer appended to the stream after it was read; read it again and decide again. */
export class StreamVersionConflictError extends Error {
  override name = 'StreamVersionConflictError';
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
  ) {
    super(`stream ${streamId} has moved past version ${expectedVersion}`);
  }
}

const eventTypeOf = (message: AccountEventMessage) => message.type.slice('account.'.length);

/** Reads a stored row back as a domain event, validating its data with the contract's schema. */
function fromRow(row: EventRow): StoredAccountEvent {
  return {
    position: Number(row.position),
    streamId: row.stream_id,
    version: row.version,
    event: toAccountEvent(row.type, row.data),
    messageId: row.message_id,
    occurredAt: row.occurred_at,
  };
}

function toAccountEvent(type: string, data: unknown): AccountEvent {
  switch (type) {
    case 'AccountOpened':
      return { type, data: AccountOpened.schema.parse(data) };
    case 'MoneyDeposited':
      return { type, data: MoneyDeposited.schema.parse(data) };
    case 'MoneyWithdrawn':
      return { type, data: MoneyWithdrawn.schema.parse(data) };
    case 'AccountClosed':
      return { type, data: AccountClosed.schema.parse(data) };
    default:
      throw new Error(`unknown account event type in the store: ${type}`);
  }
}
