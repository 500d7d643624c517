import { describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMIT, parseRateLimit } from './rate-limit.js';
import { readServiceConfig } from './service-config.js';

describe('RATE_LIMIT', () => {
  it('reads <requests>/<seconds>s, and off', () => {
    expect(parseRateLimit('300/10s')).toEqual({ requests: 300, windowMs: 10_000 });
    expect(parseRateLimit('5/1s')).toEqual({ requests: 5, windowMs: 1_000 });
    expect(parseRateLimit('off')).toBeUndefined();
  });

  it('limits by default: a service started with no RATE_LIMIT has one', () => {
    expect(DEFAULT_RATE_LIMIT).toBe('300/10s');
    expect(readServiceConfig('orders', {}).rateLimit).toEqual({ requests: 300, windowMs: 10_000 });
  });

  it('refuses anything else at start, saying what it expects', () => {
    for (const bad of ['', '300', '300/10', '0/10s', '10/0s', '-1/10s', '1.5/10s', '10/99999s', 'OFF', 'none']) {
      expect(() => parseRateLimit(bad), bad).toThrow(/RATE_LIMIT must be <requests>\/<seconds>s/);
    }
  });
});
