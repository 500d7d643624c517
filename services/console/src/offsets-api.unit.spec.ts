import { HttpException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { ownerOf, parseResetBody, parseTo } from './offsets-api.controller.js';

const status = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    return (error as HttpException).getStatus();
  }
  return 200;
};

describe('the Offsets view input the console checks before it calls a service', () => {
  it('forwards a group to the service that owns it, and no other name', () => {
    expect(ownerOf('analytics')).toEqual({ group: 'analytics', service: 'analytics' });
    expect(ownerOf('order-metrics')).toEqual({ group: 'order-metrics', service: 'analytics' });
    expect(ownerOf('analytics-accounts')).toEqual({ group: 'analytics-accounts', service: 'analytics' });
    expect(ownerOf('audit')).toEqual({ group: 'audit', service: 'audit' });
    expect(ownerOf('audit-dead-letters')).toEqual({ group: 'audit-dead-letters', service: 'audit' });
    expect(ownerOf('order-notifications')).toEqual({ group: 'order-notifications', service: 'email' });
    for (const name of ['', 'analytics-replay-1', '../faults', 'AUDIT', undefined]) {
      expect(
        status(() => ownerOf(name)),
        String(name),
      ).toBe(404);
    }
  });

  it('takes a target the services take, normalised, and refuses the rest with 400', () => {
    expect(parseTo('earliest')).toBe('earliest');
    expect(parseTo('2026-12-03T05:00:00+01:00')).toBe('2026-12-03T04:00:00.000Z');
    expect(status(() => parseTo('soon'))).toBe(400);
    expect(parseResetBody({ to: 'latest' })).toBe('latest');
    for (const body of [undefined, null, [], {}, { to: 'latest', also: 1 }, { to: 3 }, 'latest']) {
      expect(
        status(() => parseResetBody(body)),
        JSON.stringify(body),
      ).toBe(400);
    }
  });
});
