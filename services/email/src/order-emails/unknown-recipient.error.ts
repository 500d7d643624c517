/**
 * An order event for a user whose `user.registered` has not reached this service (yet). Retryable on purpose:
 * the two events travel different brokers, so the order event may simply be early; one that is still unknown
 * after the retries goes to the dead letter topic, to be replayed once the user is known.
 */
export class UnknownRecipientError extends Error {
  override name = 'UnknownRecipientError';

  constructor(readonly userId: string) {
    super(`no user.registered seen for user ${userId}: no address to send the order e-mail to`);
  }
}
