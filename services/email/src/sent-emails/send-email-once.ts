import type { EntityManager } from 'typeorm';
import type { Email } from '../emails/email.js';
import type { MailTransport } from '../smtp/mail-sender.js';
import { claimSentEmail } from './sent-email.store.js';

/** What became of one e-mail. */
export type SendOutcome = 'sent' | 'already-sent';

/**
 * Pattern: idempotent side effect. Runs inside the message's transaction, after the inbox row:
 *
 * 1. claim the e-mail's dedupe key in `sent_emails` (taken already → the e-mail went out before: skip),
 * 2. send it over SMTP (a failure throws, the transaction rolls back with the inbox row and the claim, and the
 *    subscription retries the message with backoff, then dead-letters it),
 * 3. the caller commits.
 *
 * A crash between 2 and 3 rolls the claim back, so the redelivered message sends the e-mail a second time, with
 * the same Message-ID (derived from the dedupe key) for the receiving side to deduplicate. That window is the
 * only way to get two copies; without it an SMTP send and a database commit cannot be made atomic.
 */
export async function sendEmailOnce(
  manager: Pick<EntityManager, 'query'>,
  transport: MailTransport,
  email: Email,
): Promise<SendOutcome> {
  if (!(await claimSentEmail(manager, email))) return 'already-sent';
  await transport.send(email);
  return 'sent';
}
