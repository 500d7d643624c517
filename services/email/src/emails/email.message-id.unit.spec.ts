import { describe, expect, it } from 'vitest';
import { MailKind } from '@am/contracts';
import { MESSAGE_ID_DOMAIN, dedupeKey, emailMessageId } from './email.message-id.js';

// RFC 5322 msg-id with a dot-atom on both sides of the @.
const MSG_ID = /^<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+>$/;

describe('message id derivation', () => {
  it('derives the same Message-ID for the same fact every time, so a resend can be recognised', () => {
    expect(emailMessageId('welcome', 'user-1')).toBe(emailMessageId('welcome', 'user-1'));
    expect(emailMessageId('welcome', 'user-1')).toBe(`<welcome.user-1@${MESSAGE_ID_DOMAIN}>`);
  });

  it('gives each kind and each subject its own Message-ID', () => {
    const ids = new Set(MailKind.options.flatMap((kind) => ['a', 'b'].map((subject) => emailMessageId(kind, subject))));
    expect(ids.size).toBe(MailKind.options.length * 2);
  });

  it('hashes a subject id that would not be valid inside a Message-ID', () => {
    for (const unsafe of ['has space', 'a@b', '<x>', 'ü', `x${'y'.repeat(64)}`]) {
      const id = emailMessageId('welcome', unsafe);
      expect(id).toMatch(MSG_ID);
      expect(id).toMatch(/^<welcome\.[0-9a-f]{32}@/);
      expect(id).toBe(emailMessageId('welcome', unsafe));
    }
  });

  it('keys an e-mail by kind and subject', () => {
    expect(dedupeKey('order-confirmed', 'o-1')).toBe('order-confirmed:o-1');
  });
});
