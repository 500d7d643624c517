import type {
  DataSource,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';
import { EventSubscriber } from 'typeorm';
import type { OutboxRow } from './outbox.js';

type Listener = (rows: OutboxRow[]) => void;
const listeners = new WeakMap<DataSource, Listener>();

/** Records outbox rows written by the transaction running on `runner`, for its relay after the commit. */
export function markOutboxWritten(runner: QueryRunner | undefined, dataSource: DataSource, rows: OutboxRow[]): void {
  if (runner?.isTransactionActive) {
    const pending = (runner.data as { outboxRows?: OutboxRow[] } | undefined)?.outboxRows ?? [];
    runner.data = { ...runner.data, outboxRows: [...pending, ...rows] };
  }
  // Outside a transaction the insert has committed already.
  else signalOutboxCommitted(dataSource, rows);
}

/**
 * Hands the rows of each transaction on `dataSource` that wrote outbox rows to `listener`, once it has committed.
 * One listener per data source (the process's relay, which publishes them itself): returns undefined when the
 * data source has one already, and a function that detaches it otherwise.
 */
export function onOutboxCommitted(dataSource: DataSource, listener: Listener): (() => void) | undefined {
  if (listeners.has(dataSource)) return undefined;
  listeners.set(dataSource, listener);
  return () => {
    if (listeners.get(dataSource) === listener) listeners.delete(dataSource);
  };
}

function signalOutboxCommitted(dataSource: DataSource, rows: OutboxRow[]): void {
  if (rows.length > 0) listeners.get(dataSource)?.(rows);
}

/**
 * Pattern: transactional outbox, the hand-over. After a commit that wrote outbox rows, the process's relay gets
 * those rows at once and publishes them without reading them back, so a message leaves within a millisecond or
 * two of its commit, and nothing in the database's commit path notifies anyone. Registered on every service's
 * data source by `createServiceDataSource`.
 */
@EventSubscriber()
export class OutboxCommitSubscriber implements EntitySubscriberInterface {
  afterTransactionCommit(event: TransactionCommitEvent): void {
    // TypeORM says "commit" for a released savepoint too: only the outermost commit hands the rows over.
    if (event.queryRunner.isTransactionActive) return;
    const rows = takeRows(event.queryRunner);
    if (rows) signalOutboxCommitted(event.connection, rows);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    // A savepoint rolled back may have taken some of the rows with it, and nobody can tell which here: they stay,
    // and the relay publishes only the rows it finds in the table (OutboxRelay.publishCommitted).
    if (!event.queryRunner.isTransactionActive) takeRows(event.queryRunner);
  }
}

function takeRows(runner: QueryRunner): OutboxRow[] | undefined {
  const rows = (runner.data as { outboxRows?: OutboxRow[] } | undefined)?.outboxRows;
  if (rows) runner.data = { ...runner.data, outboxRows: undefined };
  return rows;
}
