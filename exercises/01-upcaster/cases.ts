import { expect } from 'vitest';
import type { UserRegisteredV1, UserRegisteredV2 } from '@am/contracts';
import type { Cases } from '../lib.js';
import type { UpcastToV3, UserRegisteredV3 } from './types.js';

const envelope = {
  messageId: '0b5c2a52-7f0c-4d4c-9a51-1b2f0c3d4e5f',
  occurredAt: '2026-01-02T03:04:05.000Z',
  correlationId: 'corr-1',
  causationId: null,
} as const;
const v1: UserRegisteredV1 = {
  ...envelope,
  type: 'user.registered',
  version: 1,
  data: { userId: 'u-1', email: 'ann@example.test', name: 'Ann  Marie Lee' },
};
const v2: UserRegisteredV2 = {
  ...envelope,
  type: 'user.registered',
  version: 2,
  data: { userId: 'u-2', email: 'bo@example.test', firstName: 'Bo', lastName: '', locale: 'sv-SE' },
};
const v3: UserRegisteredV3 = {
  ...envelope,
  type: 'user.registered',
  version: 3,
  data: {
    userId: 'u-3',
    email: 'cy@example.test',
    firstName: 'Cy',
    lastName: 'Ng',
    locale: 'en',
    marketingConsent: true,
  },
};

export const cases: Cases<UpcastToV3> = {
  'lifts version 1 the way the v1 → v2 upcaster does, then adds no consent': (upcast) => {
    expect(upcast(v1)).toEqual({
      ...envelope,
      type: 'user.registered',
      version: 3,
      data: {
        userId: 'u-1',
        email: 'ann@example.test',
        firstName: 'Ann',
        lastName: 'Marie Lee',
        locale: 'en',
        marketingConsent: false,
      },
    });
  },
  'lifts version 2: its data unchanged, consent false (nobody was asked)': (upcast) => {
    expect(upcast(v2)).toEqual({ ...v2, version: 3, data: { ...v2.data, marketingConsent: false } });
  },
  'passes version 3 through untouched': (upcast) => {
    expect(upcast(v3)).toEqual(v3);
  },
  'keeps the envelope: the same message id, correlation and time, so the inbox and the traces still match': (
    upcast,
  ) => {
    for (const event of [v1, v2]) {
      const { data: _data, version: _version, ...rest } = upcast(event);
      const { data: _d, version: _v, ...original } = event;
      expect(rest).toEqual(original);
    }
  },
  'does not change the event it was given (it may be retried, or read by another handler)': (upcast) => {
    const copy = structuredClone(v1);
    upcast(copy);
    expect(copy).toEqual(v1);
  },
};
