import type {
  DataSource,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';
import { EventSubscriber } from 'typeorm';

type Listener = () => void;
const listeners = new WeakMap<DataSource, Set<Listener>>();

/** Marks the transaction running on `runner` as one that wrote outbox rows. */
export function markOutboxWritten(runner: QueryRunner | undefined, dataSource: DataSource): void {
  if (runner?.isTransactionActive) runner.data = { ...runner.data, outboxWritten: true };
  // Outside a transaction the insert has committed already.
  else signalOutboxCommitted(dataSource);
}

/** Calls `listener` each time a transaction on `dataSource` that wrote outbox rows commits. */
export function onOutboxCommitted(dataSource: DataSource, listener: Listener): () => void {
  let set = listeners.get(dataSource);
  if (!set) listeners.set(dataSource, (set = new Set()));
  set.add(listener);
  return () => set.delete(listener);
}

function signalOutboxCommitted(dataSource: DataSource): void {
  for (const listener of listeners.get(dataSource) ?? []) listener();
}

/**
 * Pattern: transactional outbox, the wake-up. After a commit that wrote outbox rows, the process's relay is told
 * at once, so the message leaves within a millisecond or two of the commit, with no notification inside the
 * database's commit path. Registered on every service's data source by `createServiceDataSource`.
 */
@EventSubscriber()
export class OutboxCommitSubscriber implements EntitySubscriberInterface {
  afterTransactionCommit(event: TransactionCommitEvent): void {
    const runner = event.queryRunner;
    if (!runner.data?.outboxWritten) return;
    runner.data = { ...runner.data, outboxWritten: false };
    signalOutboxCommitted(event.connection);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    const runner = event.queryRunner;
    if (runner.data?.outboxWritten) runner.data = { ...runner.data, outboxWritten: false };
  }
}
