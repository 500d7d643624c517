import { describe, expect, it } from 'vitest';
import { MessageCatalog } from './message.js';
import { UserRegistered, splitName, upcastUserRegistered, userEvents } from './orders.messages.js';
import { UserRegisteredV1 } from './orders.messages.v1.js';

// user.registered v1 → v2 (docs/schema-evolution.md): `name` became `firstName` + `lastName`, `locale` is new.
const catalog = new MessageCatalog([...userEvents]);
const userId = 'c6b2b7de-5b9e-4b8e-9c1f-2f3a4b5c6d7e';
const origin = {
  correlationId: userId,
  messageId: '00000000-0000-4000-8000-000000000001',
  occurredAt: new Date('2025-01-15T09:30:00Z'),
};
const v1 = (name: string) => UserRegisteredV1.create({ userId, email: 'ann@example.com', name }, origin);
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('user.registered upcaster', () => {
  it('splits a v1 name at its first gap and adds the locale v1 implied', () => {
    expect(upcastUserRegistered(v1('Ann Lee'))).toEqual({
      ...v1('Ann Lee'),
      version: 2,
      data: { userId, email: 'ann@example.com', firstName: 'Ann', lastName: 'Lee', locale: 'en' },
    });
  });

  it('passes a v2 message through unchanged', () => {
    const v2 = UserRegistered.create(
      { userId, email: 'bo@example.com', firstName: 'Bo', lastName: '', locale: 'sv-SE' },
      origin,
    );
    expect(upcastUserRegistered(v2)).toBe(v2);
  });

  it.each([
    ['Ann', ['Ann', '']],
    ['Ann Lee', ['Ann', 'Lee']],
    ['  Mary   Ann  de la Cruz ', ['Mary', 'Ann  de la Cruz']],
    ['Jean-Luc\tPicard', ['Jean-Luc', 'Picard']],
    [' ', [' ', '']],
  ])('splits %j into %j', (name, expected) => {
    expect(splitName(name)).toEqual(expected);
  });
});

describe('a catalog of user events', () => {
  it('reads versions 1 and 2, and hands on v1 upcast to v2', () => {
    expect(catalog.versions('user.registered')).toEqual([1, 2]);
    const parsed = catalog.parse(bytes(v1('Ann Lee')));
    expect(parsed).toEqual({ ok: true, message: upcastUserRegistered(v1('Ann Lee')) });
  });

  it('validates a v1 message against the v1 schema, and names the v1 field that fails', () => {
    const bad = { ...v1('Ann'), data: { userId, email: 'ann@example.com', name: 42 } };
    const parsed = catalog.parse(bytes(bad));
    expect(!parsed.ok && parsed.reason).toMatch(/^invalid user\.registered v1: data\.name: /);
  });

  it('names the v2 field that fails in a v2 message', () => {
    const v2 = UserRegistered.create(
      { userId, email: 'ann@example.com', firstName: 'Ann', lastName: '', locale: 'en' },
      origin,
    );
    const parsed = catalog.parse(bytes({ ...v2, data: { ...v2.data, locale: 'not a locale!' } }));
    expect(!parsed.ok && parsed.reason).toMatch(/^invalid user\.registered: data\.locale: expected a BCP 47/);
  });

  it('refuses a v2 message at a consumer that only knows v1, which is why consumers upgrade first', () => {
    const v1Only = new MessageCatalog([UserRegisteredV1]);
    const v2 = UserRegistered.create(
      { userId, email: 'ann@example.com', firstName: 'Ann', lastName: '', locale: 'en' },
      origin,
    );
    const parsed = v1Only.parse(bytes(v2));
    expect(!parsed.ok && parsed.reason).toBe('unsupported version 2 of user.registered (this consumer knows up to 1)');
  });
});
