/** The broker cannot take the message now (no connection, channel closed, or flow control). Safe to retry. */
export class BrokerUnavailableError extends Error {
  override name = 'BrokerUnavailableError';
}

/** The broker refused the message with a negative confirm (for example a full queue with reject-publish). */
export class PublishRejectedError extends Error {
  override name = 'PublishRejectedError';
}

/** A `mandatory` message matched no queue and came back: it would otherwise have been dropped silently. */
export class UnroutableMessageError extends Error {
  override name = 'UnroutableMessageError';
  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly replyText: string,
  ) {
    super(`message to exchange "${exchange}" with routing key "${routingKey}" was returned: ${replyText}`);
  }
}

/**
 * A message that can never succeed (bad JSON, failed validation, unknown type). It goes to the dead letter
 * queue at once, without retries.
 */
export class InvalidMessageError extends Error {
  override name = 'InvalidMessageError';
}

/** A configuration that would break a delivery guarantee; the service refuses to start with it. */
export class UnsafeConfigurationError extends Error {
  override name = 'UnsafeConfigurationError';
}
