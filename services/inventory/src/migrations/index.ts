import { messagingMigrations } from '@am/persistence';
import { Inventory1764400000200 } from './1764400000200-inventory.migration.js';

/** The inventory schema, in the order the migrations run: the messaging tables first, like every service. */
export const migrations = [...messagingMigrations, Inventory1764400000200];
