import { describe, expect, it } from 'vitest';
import { BoundedSet } from './known-users.js';

describe('BoundedSet (the known-users cache of POST /orders)', () => {
  it('forgets the oldest entries past its capacity and keeps the rest', () => {
    const set = new BoundedSet(3);
    for (const id of ['a', 'b', 'c', 'd']) set.add(id);
    expect(set.size).toBe(3);
    expect(set.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((id) => set.has(id))).toBe(true);
  });

  it('counts an entry added twice once', () => {
    const set = new BoundedSet(2);
    set.add('a');
    set.add('a');
    set.add('b');
    expect(set.has('a') && set.has('b')).toBe(true);
    expect(set.size).toBe(2);
  });
});
