// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'eslint.config.js',
      '**/dist/**',
      '**/node_modules/**',
      '.cache/**',
      '.run/**',
      'experiments/results/**',
      'k6/**/*.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked.map((c) => ({ ...c, files: ['**/*.ts'] })),
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unsafe-function-type': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The control room's page runs in a browser: its own tsconfig (DOM types, browser modules).
    files: ['services/console/src/page/**/*.ts'],
    languageOptions: {
      parserOptions: { project: ['./services/console/src/page/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // k6 scripts run in k6, not Node: their own tsconfig (types from @types/k6, .ts import paths).
    files: ['k6/**/*.ts'],
    languageOptions: {
      parserOptions: { project: ['./k6/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // The dependency rule: services import only libs/*, never each other; libs never import services.
    files: ['services/*/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../../*', '../../../*'],
              message: 'a service imports only @am/* libraries, never another service',
            },
            {
              group: ['@am/orders', '@am/inventory', '@am/payments', '@am/email', '@am/analytics', '@am/audit'],
              message: 'services never import each other; share contracts through @am/contracts',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/*/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@am/orders',
                '@am/inventory',
                '@am/payments',
                '@am/email',
                '@am/analytics',
                '@am/audit',
                '**/services/**',
              ],
              message: 'libraries never depend on services',
            },
          ],
        },
      ],
    },
  },
  {
    // Pure decision files (deciders, sagas, projections) import no framework and no I/O.
    files: ['**/*.decide.ts', '**/*.evolve.ts', '**/*.saga.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*', 'typeorm', 'pg', 'amqplib', 'kafkajs', '@am/messaging', '@am/persistence', 'node:*'],
              message: 'decision code stays pure',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    // Plain Node scripts: no type information, Node globals.
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        URL: 'readonly',
      },
    },
  },
  prettier,
);
