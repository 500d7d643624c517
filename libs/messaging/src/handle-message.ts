import type { DataSource } from 'typeorm';
import type { Envelope, MessageCatalog } from '@am/contracts';
import { traceHeaders, withLogContext } from '@am/observability';
import { addToOutbox, claimMessage, claimMessages, type OutboxMessage } from '@am/persistence';
import { InvalidMessageError } from './errors.js';
import type { MessagingLogger } from './logger.js';
import type { MessagingMetrics } from './metrics.js';
import { MessageContext } from './message-context.js';

export type EnvelopeHandler = (message: Envelope, context: MessageContext) => Promise<unknown>;

export interface HandleMessageOptions {
  dataSource: DataSource;
  /** Inbox key: the name of the consuming endpoint (queue or topic/group). */
  consumer: string;
  catalog: MessageCatalog;
  findHandler: (type: string) => EnvelopeHandler | undefined;
  /** Where a duplicate delivery is noted (at debug level, with its message id). */
  logger?: MessagingLogger;
  /** Counts duplicates suppressed (`messages_duplicates_total`), under `source` (the queue or topic). */
  duplicates?: { source: string; count(source: string): void };
}

/**
 * The library's default for every delivery: validate, then in one transaction claim the message id in the
 * inbox, run the handler, and add the handler's outgoing messages to the outbox. A duplicate delivery finds
 * its inbox row and does nothing. Returns false for a duplicate. Log lines written meanwhile carry the
 * envelope's correlation and message ids; outbox rows carry the active trace context (`addToOutbox`).
 */
export async function handleMessage(options: HandleMessageOptions, body: Buffer, sender?: string): Promise<boolean> {
  const { message, handler } = validate(options, body);
  const ids = { correlationId: message.correlationId, messageId: message.messageId, messageType: message.type };
  return withLogContext(ids, () =>
    options.dataSource.transaction(async (manager) => {
      if (!(await claimMessage(manager, options.consumer, message.messageId))) {
        skipped(options, message);
        return false;
      }
      const context = new MessageContext(manager, message, options.consumer, sender);
      await handler(message, context);
      await addToOutbox(manager, context.outgoing);
      return true;
    }),
  );
}

/**
 * The batch form of `handleMessage` (pattern: batched consumer): validates every message first (an invalid one
 * throws, and the caller handles the batch again one message at a time), then in one transaction claims all
 * message ids in the inbox with one statement, runs each claimed message's handler in turn (`within` gives each
 * its own log context and span), and adds all their outgoing messages to the outbox with one insert. A message
 * already handled, or twice in the batch, is skipped. Returns how many were handled.
 */
export async function handleMessages(
  options: HandleMessageOptions,
  bodies: readonly Buffer[],
  within: <T>(index: number, work: () => Promise<T>) => Promise<T> = (_index, work) => work(),
  senders: readonly (string | undefined)[] = [],
): Promise<number> {
  const messages = bodies.map((body) => validate(options, body));
  return options.dataSource.transaction(async (manager) => {
    const claimed = await claimMessages(
      manager,
      options.consumer,
      messages.map((m) => m.message.messageId),
    );
    const outgoing: OutboxMessage[] = [];
    let handled = 0;
    for (const [index, { message, handler }] of messages.entries()) {
      if (!claimed.delete(message.messageId)) {
        skipped(options, message);
        continue;
      }
      await within(index, async () => {
        const context = new MessageContext(manager, message, options.consumer, senders[index]);
        await handler(message, context);
        // Each outgoing message keeps the trace of the message that caused it (the outbox insert runs after all).
        const trace = traceHeaders();
        for (const m of context.outgoing) outgoing.push({ ...m, headers: { ...trace, ...m.headers } });
      });
      handled += 1;
    }
    await addToOutbox(manager, outgoing);
    return handled;
  });
}

/** The envelope of a delivery and its handler; an invalid message, or one nobody here handles, throws. */
function validate(options: HandleMessageOptions, body: Buffer): { message: Envelope; handler: EnvelopeHandler } {
  const parsed = options.catalog.parse(body);
  if (!parsed.ok) throw new InvalidMessageError(parsed.reason);
  const handler = options.findHandler(parsed.message.type);
  if (!handler) throw new InvalidMessageError(`no handler for ${parsed.message.type} at ${options.consumer}`);
  return { message: parsed.message, handler };
}

function skipped(options: HandleMessageOptions, message: Envelope): void {
  options.duplicates?.count(options.duplicates.source);
  options.logger?.debug?.(
    { consumer: options.consumer, messageId: message.messageId, messageType: message.type },
    'duplicate delivery: already handled, skipped (inbox)',
  );
}

/** The `duplicates` option of a consumer at `source` that reports to `metrics` (nothing when it has none). */
export function duplicateCounter(
  metrics: MessagingMetrics | undefined,
  source: string,
): Pick<HandleMessageOptions, 'duplicates'> {
  const count = metrics?.duplicate?.bind(metrics);
  return count ? { duplicates: { source, count } } : {};
}
