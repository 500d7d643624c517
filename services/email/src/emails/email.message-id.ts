import { createHash } from 'node:crypto';
import type { EmailKind } from './email.js';

/** The right-hand side of every Message-ID this service writes. */
export const MESSAGE_ID_DOMAIN = 'email.async-messaging.local';

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The key under which `sent_emails` records an e-mail: one per kind and subject (user or order). */
export function dedupeKey(kind: EmailKind, subjectId: string): string {
  return `${kind}:${subjectId}`;
}

/**
 * A deterministic `Message-ID` for the e-mail of `kind` about `subjectId`: the same fact always gives the same
 * header, so when a crash between the SMTP send and the commit makes the service send once more, a receiving
 * server or mail client that deduplicates by Message-ID sees the same message twice, not two messages. An id
 * that is not safe inside a Message-ID (the contracts allow any user id string) is replaced by its hash.
 */
export function emailMessageId(kind: EmailKind, subjectId: string): string {
  const local = SAFE_ID.test(subjectId)
    ? subjectId
    : createHash('sha256').update(dedupeKey(kind, subjectId)).digest('hex').slice(0, 32);
  return `<${kind}.${local}@${MESSAGE_ID_DOMAIN}>`;
}
