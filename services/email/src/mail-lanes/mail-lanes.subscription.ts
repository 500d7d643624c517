import { MessageCatalog, mailCommands } from '@am/contracts';
import { Queues, defineSubscription } from '@am/messaging';

// Pattern: priority lanes. One SMTP sender consumes both lanes of the `mail` headers exchange, each on its own
// channel with its own prefetch: a backlog of welcome mail in `mail-bulk` holds its few slots and no more, while
// an order e-mail in `mail-priority` is taken at once. A failed SMTP send is retried through each lane's delayed
// retry queues (1 s, 5 s, 25 s by default), then goes to `mail-priority-dlq` or `mail-bulk-dlq`. Each message in
// flight holds a database connection for the length of its SMTP conversation, hence small prefetches.

/** Order e-mails, and whatever else is marked `priority: high`. */
export const mailPrioritySubscription = {
  subscription: defineSubscription({ queue: Queues.mailPriority, prefetch: 5 }),
  catalog: new MessageCatalog([...mailCommands]),
};

/** Welcome e-mails and anything the `mail` exchange could not place (through `mail-unrouted`). */
export const mailBulkSubscription = {
  subscription: defineSubscription({ queue: Queues.mailBulk, prefetch: 2 }),
  catalog: new MessageCatalog([...mailCommands]),
};
