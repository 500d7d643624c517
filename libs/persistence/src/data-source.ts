import { DataSource, type EntityManager, type MixedList } from 'typeorm';
import { OutboxCommitSubscriber } from './outbox-commit-signal.js';
import { preparingPg } from './prepared-statements.js';
import { RoundTripCountingLogger } from './round-trips.js';

/** Options for one service's database: each service owns its database (database per service). */
export interface ServiceDataSourceOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Entity classes, listed explicitly so that one configuration works from `dist` and in tests. */
  entities?: MixedList<Function>;
  /** Migration classes in the order they run. The schema comes only from these, never from `synchronize`. */
  migrations: MixedList<Function>;
  /** Connection pool size. */
  poolSize?: number;
  /** Name shown in `pg_stat_activity`. */
  applicationName?: string;
}

export function createServiceDataSource(options: ServiceDataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    // Statements with parameters go as named prepared statements (prepared-statements.ts).
    driver: preparingPg,
    url: options.url,
    entities: options.entities ?? [],
    migrations: options.migrations,
    // Tells the process's outbox relay when a transaction that wrote outbox rows has committed.
    subscribers: [OutboxCommitSubscriber],
    synchronize: false,
    migrationsRun: false,
    installExtensions: false,
    logging: ['error'],
    // Prints errors only, as `logging` says, and counts every statement (db_round_trips_total).
    logger: new RoundTripCountingLogger(['error']),
    poolSize: options.poolSize ?? 10,
    applicationName: options.applicationName,
    extra: { connectionTimeoutMillis: 5_000 },
  });
}

/** Key of the advisory lock that serialises migrations of several instances of one service. */
const MIGRATION_LOCK_KEY = 7_241_001;

/**
 * Runs pending migrations under a PostgreSQL advisory lock, so that two instances starting together never
 * run the same migration twice. Returns the names of the migrations it ran.
 */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const ran = await dataSource.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}

/** Runs `work` in one transaction with the given manager, or in a new transaction when there is none. */
export function inTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return dataSource.transaction(work);
}
