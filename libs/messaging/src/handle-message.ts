import type { DataSource } from 'typeorm';
import type { Envelope, MessageCatalog } from '@am/contracts';
import { withLogContext } from '@am/observability';
import { addToOutbox, claimMessage } from '@am/persistence';
import { InvalidMessageError } from './errors.js';
import type { MessagingLogger } from './logger.js';
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
}

/**
 * The library's default for every delivery: validate, then in one transaction claim the message id in the
 * inbox, run the handler, and add the handler's outgoing messages to the outbox. A duplicate delivery finds
 * its inbox row and does nothing. Returns false for a duplicate. Log lines written meanwhile carry the
 * envelope's correlation and message ids; outbox rows carry the active trace context (`addToOutbox`).
 */
export async function handleMessage(options: HandleMessageOptions, body: Buffer): Promise<boolean> {
  const parsed = options.catalog.parse(body);
  if (!parsed.ok) throw new InvalidMessageError(parsed.reason);
  const message: Envelope = parsed.message;
  const handler = options.findHandler(message.type);
  if (!handler) throw new InvalidMessageError(`no handler for ${message.type} at ${options.consumer}`);
  const ids = { correlationId: message.correlationId, messageId: message.messageId, messageType: message.type };
  return withLogContext(ids, () =>
    options.dataSource.transaction(async (manager) => {
      if (!(await claimMessage(manager, options.consumer, message.messageId))) {
        options.logger?.debug?.(
          { consumer: options.consumer, messageId: message.messageId, messageType: message.type },
          'duplicate delivery: already handled, skipped (inbox)',
        );
        return false;
      }
      const context = new MessageContext(manager, message, options.consumer);
      await handler(message, context);
      await addToOutbox(manager, context.outgoing);
      return true;
    }),
  );
}
