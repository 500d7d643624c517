import { CheckStock, MessageCatalog } from '@am/contracts';
import { Queues, type QueryResponder } from '@am/messaging';

/**
 * Pattern: request/reply (docs/request-reply.md). Inventory answers stock queries from `inventory-queries`, a few
 * at a time: each answer is one indexed read. No retry, no dead letter queue: a request nobody answered in time
 * has expired, and its caller has answered 504.
 */
export const inventoryQueriesResponder: QueryResponder = {
  queue: Queues.inventoryQueries,
  prefetch: 20,
  catalog: new MessageCatalog([CheckStock]),
};
