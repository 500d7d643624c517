import { describe, expect, it } from 'vitest';
import { MAX_PREPARED_STATEMENTS, preparedNameFor } from './prepared-statements.js';

describe('preparedNameFor', () => {
  it('names a text the same way every time, and two texts differently', () => {
    const a = preparedNameFor('SELECT $1::int');
    expect(a).toMatch(/^am_[0-9a-f]{24}$/);
    expect(preparedNameFor('SELECT $1::int')).toBe(a);
    expect(preparedNameFor('SELECT $1::text')).not.toBe(a);
  });

  it('names no more than MAX_PREPARED_STATEMENTS texts, and keeps the names it gave', () => {
    const first = preparedNameFor('SELECT $1::int');
    const named = Array.from({ length: MAX_PREPARED_STATEMENTS + 50 }, (_, i) => preparedNameFor(`SELECT $1 + ${i}`));
    expect(named.filter((n) => n !== undefined).length).toBeLessThanOrEqual(MAX_PREPARED_STATEMENTS);
    expect(named.at(-1)).toBeUndefined();
    expect(preparedNameFor('SELECT $1::int')).toBe(first);
  });
});
