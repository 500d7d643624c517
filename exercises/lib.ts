import { it } from 'vitest';

/** An exercise's checks: each one takes the implementation under test and throws (an `expect`) when it is wrong. */
export type Cases<T> = Record<string, (impl: T) => void>;

/** Registers one vitest test per case, run against `impl` (the learner's file, or the reference solution). */
export function runCases<T>(cases: Cases<T>, impl: T): void {
  for (const [name, check] of Object.entries(cases)) it(name, () => check(impl));
}

/** What the exercise files throw until they are written. */
export class NotYetImplemented extends Error {
  override name = 'NotYetImplemented';
  constructor(what: string) {
    super(`${what} is not written yet: see this exercise's README.md`);
  }
}
