import type { EntityManager } from 'typeorm';
import type { EnvelopeOrigin } from '@am/contracts';
import { Topics, toTopic } from '@am/messaging';
import { addToOutbox } from '@am/persistence';
import { decide } from './account.decide.js';
import type { AccountCommand, AccountError, AccountEvent, AccountState } from './account.events.js';
import { foldAccount } from './account.evolve.js';
import { balanceOf, saveBalances } from './account-balance.projection.js';
import {
  StreamVersionConflictError,
  appendToStream,
  loadStream,
  saveSnapshot,
  toAccountEventMessage,
} from './account-event.store.js';

/** What a command did: the events it appended and the state after them, or why it was refused. */
export type CommandOutcome =
  | { ok: true; events: AccountEvent[]; state: AccountState; version: number }
  | { ok: false; error: AccountError; state: AccountState; version: number };

export interface RunCommandOptions {
  /** The message or request that caused the command: its correlation carries on to the published events. */
  origin: EnvelopeOrigin;
  /** The clock comes in from outside; it stamps the stored events and their envelopes alike. */
  now?: Date;
  /** How many times to read, decide and append before giving up on a stream that keeps moving. */
  maxAttempts?: number;
}

/**
 * Every attempt loses only to a writer that committed, so N concurrent writers need at most N attempts.
 * 25 covers a burst of concurrent payments on one account; beyond it the caller's own retry takes over.
 */
export const DEFAULT_MAX_ATTEMPTS = 25;

/**
 * A command that finds this many events after the last snapshot (those it read and those it appends) stores a new
 * snapshot with them: a command then reads at most this many events, however long the account's history.
 */
export const SNAPSHOT_EVERY = 50;

/**
 * Runs one command against its account's stream, inside the caller's transaction: load the last snapshot and the
 * events after it, fold them, decide, append the events with optimistic concurrency, project them into
 * `account_balances` and put them in the outbox for `account-events` — all or nothing. The stream id is the
 * account id.
 *
 * A conflict on (stream_id, version) means another transaction appended first. Each attempt runs inside a
 * SAVEPOINT of the caller's transaction (which also holds the inbox row of the message being handled): a
 * conflict, or any error, rolls back just that attempt, and the next one reads the stream again (READ
 * COMMITTED sees the winner's events) and decides again. A withdrawal that was covered before the conflict
 * may be refused after it: money is never spent twice.
 */
export async function runAccountCommand(
  manager: EntityManager,
  command: AccountCommand,
  options: RunCommandOptions,
): Promise<CommandOutcome> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    await manager.query('SAVEPOINT account_append');
    try {
      const outcome = await attemptCommand(manager, command, options);
      await manager.query('RELEASE SAVEPOINT account_append');
      return outcome;
    } catch (error) {
      await manager.query('ROLLBACK TO SAVEPOINT account_append');
      await manager.query('RELEASE SAVEPOINT account_append');
      if (!(error instanceof StreamVersionConflictError)) throw error;
      if (attempt >= maxAttempts) throw new ConcurrencyRetriesExhaustedError(command.data.accountId, attempt);
    }
  }
}

async function attemptCommand(
  manager: EntityManager,
  command: AccountCommand,
  options: RunCommandOptions,
): Promise<CommandOutcome> {
  const streamId = command.data.accountId;
  // Pattern: snapshots. The state at the last snapshot, then the events after it: the same state as folding the
  // whole stream (a test compares both), at a cost that does not grow with the account's history.
  const { snapshot, events: tail } = await loadStream(manager, streamId);
  const state = foldAccount(
    tail.map((stored) => stored.event),
    snapshot?.state,
  );
  const version = tail.at(-1)?.version ?? snapshot?.version ?? 0;
  const decision = decide(command, state);
  if (!decision.ok) return { ok: false, error: decision.error, state, version };
  if (decision.events.length === 0) return { ok: true, events: [], state, version };

  // Each event gets its own message id; only the correlation and causation are shared.
  const { messageId: _ownId, ...cause } = options.origin;
  const origin = { ...cause, occurredAt: options.now ?? new Date() };
  const messages = decision.events.map((event) => toAccountEventMessage(event, origin));
  await appendToStream(manager, streamId, version, messages);
  const next = foldAccount(decision.events, state);
  const nextVersion = version + decision.events.length;
  // Pattern: CQRS read model, updated in the same transaction from the same events (rebuildable later).
  const balance = balanceOf(next, nextVersion);
  if (balance) await saveBalances(manager, [balance]);
  if (tail.length + decision.events.length >= SNAPSHOT_EVERY) await saveSnapshot(manager, streamId, nextVersion, next);
  // Pattern: transactional outbox. The events reach Kafka, keyed by account id, if and only if they commit.
  const destination = toTopic(Topics.accountEvents, streamId);
  await addToOutbox(
    manager,
    messages.map((m) => ({ destination, messageId: m.messageId, type: m.type, payload: m })),
  );
  return { ok: true, events: decision.events, state: next, version: nextVersion };
}

/** The stream kept moving for every attempt; the caller should retry later (a message goes to its retry queue). */
export class ConcurrencyRetriesExhaustedError extends Error {
  override name = 'ConcurrencyRetriesExhaustedError';
  constructor(
    readonly streamId: string,
    readonly attempts: number,
  ) {
    super(`account ${streamId}: ${attempts} attempts lost to concurrent writers`);
  }
}
