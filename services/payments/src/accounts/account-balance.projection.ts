import type { DataSource, EntityManager } from 'typeorm';
import type { AccountState } from './account.events.js';
import { evolve, initialAccountState } from './account.evolve.js';
import { readAllStreams } from './account-event.store.js';

/** One row of the `account_balances` read model: the state of an account after `version` events. */
export interface AccountBalance {
  id: string;
  name: string;
  balance: number;
  isOpen: boolean;
  version: number;
}

/** The read-model row for a state folded from `version` events, or undefined while the account does not exist. */
export function balanceOf(state: AccountState, version: number): AccountBalance | undefined {
  if (!state.exists) return undefined;
  return { id: state.id, name: state.name, balance: state.balance, isOpen: state.isOpen, version };
}

/**
 * Pattern: CQRS read model. Writes rows of `account_balances`. A row only ever moves to a higher version, so a
 * writer that lost a race (or a rebuild that ran in between) can never put an older balance back.
 */
export async function saveBalances(manager: EntityManager, rows: readonly AccountBalance[]): Promise<void> {
  if (rows.length === 0) return;
  await manager.query(
    `INSERT INTO account_balances (account_id, name, balance, is_open, version)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::boolean[], $5::int[])
     ON CONFLICT (account_id) DO UPDATE
        SET name = EXCLUDED.name, balance = EXCLUDED.balance, is_open = EXCLUDED.is_open, version = EXCLUDED.version
      WHERE account_balances.version < EXCLUDED.version`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.name),
      rows.map((r) => r.balance),
      rows.map((r) => r.isOpen),
      rows.map((r) => r.version),
    ],
  );
}

interface BalanceRow {
  account_id: string;
  name: string;
  balance: string;
  is_open: boolean;
  version: number;
}

const fromRow = (r: BalanceRow): AccountBalance => ({
  id: r.account_id,
  name: r.name,
  balance: Number(r.balance),
  isOpen: r.is_open,
  version: r.version,
});

/** The query side: one account's balance as the read model holds it. */
export async function findBalance(manager: EntityManager, accountId: string): Promise<AccountBalance | undefined> {
  const rows: BalanceRow[] = await manager.query(
    'SELECT account_id, name, balance, is_open, version FROM account_balances WHERE account_id = $1',
    [accountId],
  );
  return rows[0] && fromRow(rows[0]);
}

/** Every row of the read model, by account id (for comparing a rebuild with the live projection). */
export async function allBalances(manager: EntityManager): Promise<AccountBalance[]> {
  const rows: BalanceRow[] = await manager.query(
    'SELECT account_id, name, balance, is_open, version FROM account_balances ORDER BY account_id',
  );
  return rows.map(fromRow);
}

/** Progress of a rebuild, reported after each page of events. */
export interface RebuildProgress {
  events: number;
  accounts: number;
}

/**
 * Throws the read model away and replays every event of the store into it, with the same `evolve` the live
 * path uses (pattern: rebuilding a projection from the log). Runs in one transaction, so readers see the old
 * table until the new one is complete. It takes a SHARE lock on `account_events` first: appends wait until the
 * rebuild commits, so no event can slip in between the replay and the commit.
 */
export async function rebuildBalances(
  dataSource: DataSource,
  options: { pageSize?: number; onProgress?: (progress: RebuildProgress) => void } = {},
): Promise<RebuildProgress> {
  const pageSize = options.pageSize ?? 1_000;
  return dataSource.transaction(async (manager) => {
    await manager.query('LOCK TABLE account_events IN SHARE MODE');
    await manager.query('TRUNCATE account_balances');
    const progress: RebuildProgress = { events: 0, accounts: 0 };
    // The page boundary can fall inside a stream, so the stream being folded carries over between pages.
    let current: { streamId: string; state: AccountState; version: number } | undefined;
    for (;;) {
      const page = await readAllStreams(manager, current, pageSize);
      const finished: AccountBalance[] = [];
      for (const stored of page) {
        if (current?.streamId !== stored.streamId) {
          const done = current && balanceOf(current.state, current.version);
          if (done) finished.push(done);
          current = { streamId: stored.streamId, state: initialAccountState, version: 0 };
        }
        current.state = evolve(current.state, stored.event);
        current.version = stored.version;
      }
      if (page.length < pageSize) {
        const last = current && balanceOf(current.state, current.version);
        if (last) finished.push(last);
      }
      await saveBalances(manager, finished);
      progress.events += page.length;
      progress.accounts += finished.length;
      options.onProgress?.({ ...progress });
      if (page.length < pageSize) return progress;
    }
  });
}
