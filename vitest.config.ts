import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// Tests run against library sources (the `@am/source` export condition), so no build is needed for unit and
// integration tests; end-to-end tests start the built services from `dist` as real processes.
const conditions = ['@am/source', 'module', 'node', 'development|production'];
const brokerTier = { globalSetup: ['libs/testing/src/global-setup.ts'], fileParallelism: false };

export default defineConfig({
  plugins: [swc.vite({ tsconfigFile: 'tsconfig.base.json', module: { type: 'es6' } })],
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{libs,services}/*/src/**/*.unit.spec.ts', 'tests/**/*.unit.spec.ts', 'exercises/*.unit.spec.ts'],
        },
      },
      {
        extends: true,
        // The exercises as a learner runs them: they fail until solved (exercises/README.md). Not a test tier: the
        // unit tier checks them against their reference solutions.
        test: { name: 'exercises', include: ['exercises/*/exercise.spec.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'int',
          include: ['{libs,services}/*/src/**/*.int.spec.ts', 'tests/**/*.int.spec.ts'],
          ...brokerTier,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['{libs,services}/*/src/**/*.e2e.spec.ts', 'tests/**/*.e2e.spec.ts'],
          ...brokerTier,
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'fault',
          include: ['{libs,services}/*/src/**/*.fault.spec.ts', 'tests/**/*.fault.spec.ts'],
          ...brokerTier,
          testTimeout: 300_000,
        },
      },
      {
        extends: true,
        test: {
          // The control room in a real browser (Debian's chromium, driven by playwright-core; scripts/browser.sh).
          name: 'browser',
          include: ['tests/browser/**/*.browser.spec.ts'],
          ...brokerTier,
          testTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          // The stack of docker-compose.yml in containers, started by `./stack containers test` (no test world:
          // the containers' own brokers and database).
          name: 'containers',
          include: ['tests/containers/**/*.container.spec.ts'],
          fileParallelism: false,
          testTimeout: 400_000,
        },
      },
    ],
  },
});
