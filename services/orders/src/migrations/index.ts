import { messagingMigrations } from '@am/persistence';
import { Orders1764400000100 } from './1764400000100-orders.migration.js';
import { OrderSaga1764400000101 } from './1764400000101-order-saga.migration.js';
import { IdempotencyKeys1764400000102 } from './1764400000102-idempotency-keys.migration.js';
import { OrderFlow1764400000103 } from './1764400000103-order-flow.migration.js';

export const migrations = [
  ...messagingMigrations,
  Orders1764400000100,
  OrderSaga1764400000101,
  IdempotencyKeys1764400000102,
  OrderFlow1764400000103,
];
