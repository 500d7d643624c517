import type { EntityManager } from 'typeorm';
import type { AccountEventMessage } from '@am/contracts';
import { claimMessages } from '@am/persistence';

/** What a batch of account events changes on one account: flags and sums to add. */
export interface AccountDelta {
  opened: boolean;
  closed: boolean;
  deposits: number;
  deposited: number;
  withdrawals: number;
  withdrawn: number;
}

/**
 * Folds a batch of account events into one delta per account (pure: the unit tests give it events and read the
 * deltas). Sums are additive, so applying deltas is only right if every event is applied exactly once.
 */
export function accountDeltas(events: readonly AccountEventMessage[]): Map<string, AccountDelta> {
  const deltas = new Map<string, AccountDelta>();
  const of = (accountId: string) => {
    let delta = deltas.get(accountId);
    if (!delta) {
      delta = { opened: false, closed: false, deposits: 0, deposited: 0, withdrawals: 0, withdrawn: 0 };
      deltas.set(accountId, delta);
    }
    return delta;
  };
  for (const event of events) {
    switch (event.type) {
      case 'account.AccountOpened':
        of(event.data.accountId).opened = true;
        break;
      case 'account.AccountClosed':
        of(event.data.accountId).closed = true;
        break;
      case 'account.MoneyDeposited': {
        const delta = of(event.data.accountId);
        delta.deposits += 1;
        delta.deposited += event.data.amount;
        break;
      }
      case 'account.MoneyWithdrawn': {
        const delta = of(event.data.accountId);
        delta.withdrawals += 1;
        delta.withdrawn += event.data.amount;
        break;
      }
      default: {
        const _exhaustive: never = event;
        return _exhaustive;
      }
    }
  }
  return deltas;
}

/** The inbox name of this read model (pattern: idempotent consumer). */
export const ACCOUNT_ACTIVITY_CONSUMER = 'analytics-accounts';

/**
 * Applies a batch of account events to `account_activity` (pattern: CQRS read model fed by an event stream) in two
 * statements whatever the batch's size: a set-based inbox claim, then a multi-row upsert that adds each account's
 * delta. Both guards are needed for sums. The group's position moves in the same transaction (offsets kept with the
 * data), so a record Kafka offers again is skipped; but the outbox relay publishes at least once, so the same event
 * can also sit in the topic twice, at two offsets: the claim on its message id skips that copy.
 */
export async function projectAccountEvents(
  manager: EntityManager,
  events: readonly AccountEventMessage[],
): Promise<void> {
  const fresh = await claimMessages(
    manager,
    ACCOUNT_ACTIVITY_CONSUMER,
    events.map((e) => e.messageId),
  );
  // Each claimed id once (a copy inside the same batch was claimed with it).
  const apply = events.filter((e) => fresh.delete(e.messageId));
  const rows = [...accountDeltas(apply)];
  if (rows.length === 0) return;
  await manager.query(
    `INSERT INTO account_activity AS a (account_id, opened, closed, deposits, deposited, withdrawals, withdrawn)
     SELECT * FROM unnest($1::text[], $2::boolean[], $3::boolean[], $4::int[], $5::bigint[], $6::int[], $7::bigint[])
     ON CONFLICT (account_id) DO UPDATE SET
       opened      = a.opened OR EXCLUDED.opened,
       closed      = a.closed OR EXCLUDED.closed,
       deposits    = a.deposits + EXCLUDED.deposits,
       deposited   = a.deposited + EXCLUDED.deposited,
       withdrawals = a.withdrawals + EXCLUDED.withdrawals,
       withdrawn   = a.withdrawn + EXCLUDED.withdrawn,
       updated_at  = now()`,
    [
      rows.map(([id]) => id),
      rows.map(([, d]) => d.opened),
      rows.map(([, d]) => d.closed),
      rows.map(([, d]) => d.deposits),
      rows.map(([, d]) => d.deposited),
      rows.map(([, d]) => d.withdrawals),
      rows.map(([, d]) => d.withdrawn),
    ],
  );
}
