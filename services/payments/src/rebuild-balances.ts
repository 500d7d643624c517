import { readServiceConfig } from '@am/messaging';
import { createServiceDataSource, migrate } from '@am/persistence';
import { rebuildBalances } from './accounts/account-balance.projection.js';
import { migrations } from './migrations/index.js';

// `node dist/rebuild-balances.js`: throws the `account_balances` read model away and replays the whole event
// store into it (pattern: rebuilding a projection). Reads DATABASE_URL like the service; safe to run while the
// service is up (appends wait for the rebuild's commit).

const config = readServiceConfig('payments');
const dataSource = createServiceDataSource({
  url: config.databaseUrl,
  migrations,
  applicationName: 'rebuild-balances',
});
const started = performance.now();
try {
  await dataSource.initialize();
  await migrate(dataSource);
  const result = await rebuildBalances(dataSource, {
    onProgress: ({ events, accounts }) => console.log(`replayed ${events} events, ${accounts} accounts written`),
  });
  const ms = Math.round(performance.now() - started);
  console.log(`rebuilt account_balances: ${result.accounts} accounts from ${result.events} events in ${ms} ms`);
} catch (error) {
  console.error(`rebuild failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
} finally {
  if (dataSource.isInitialized) await dataSource.destroy();
}
