import { BadRequestException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { parseDeadLetterId, parseGroupId, parseObjectBody, parseRunId } from './dead-letters-api.js';

describe("the workbench routes' own checks", () => {
  it('takes dead letter and run ids as positive integers of at most 18 digits, and nothing else', () => {
    expect(parseDeadLetterId('42')).toBe('42');
    expect(parseRunId('7')).toBe('7');
    for (const bad of ['0', '-1', '1.5', '1e3', '9'.repeat(19), '', 'abc', '../1', undefined]) {
      expect(() => parseDeadLetterId(bad), String(bad)).toThrow(BadRequestException);
      expect(() => parseRunId(bad), String(bad)).toThrow(BadRequestException);
    }
  });

  it('takes a group as its fingerprint, 12 hex digits', () => {
    expect(parseGroupId('0123456789ab')).toBe('0123456789ab');
    for (const bad of ['0123456789AB', '0123456789a', '0123456789abc', 'zzzzzzzzzzzz', '../dead-letters'])
      expect(() => parseGroupId(bad), bad).toThrow(BadRequestException);
  });

  it('passes on a JSON object (an absent body as an empty one) and refuses anything else', () => {
    expect(parseObjectBody({ perSecond: 5 })).toEqual({ perSecond: 5 });
    expect(parseObjectBody(undefined)).toEqual({});
    for (const bad of [[1], 'text', 5, true]) expect(() => parseObjectBody(bad)).toThrow(BadRequestException);
  });
});
