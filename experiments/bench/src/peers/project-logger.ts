import { consoleLogger, type MessagingLogger } from '@am/messaging';

/**
 * The project's peers log as the bench's services do (`LOG_LEVEL=warn`): warnings and errors, no line per message.
 * The other peers write nothing per message either, so all of them do the same work.
 */
export const warnLogger: MessagingLogger = {
  info: () => undefined,
  warn: (obj, msg) => consoleLogger.warn(obj, msg),
  error: (obj, msg) => consoleLogger.error(obj, msg),
};
