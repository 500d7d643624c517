import { describe, expect, it } from 'vitest';
import type { Cases } from './lib.js';
import { cases as upcaster } from './01-upcaster/cases.js';
import { upcastToV3 as upcasterGiven } from './01-upcaster/exercise.js';
import { upcastToV3 as upcasterSolved } from './solutions/01-upcaster.js';
import { cases as readModel } from './02-account-read-model/cases.js';
import { evolveSpending as readModelGiven } from './02-account-read-model/exercise.js';
import { evolveSpending as readModelSolved } from './solutions/02-account-read-model.js';
import { cases as compensations } from './03-saga-compensations/cases.js';
import { compensationsFor as compensationsGiven } from './03-saga-compensations/exercise.js';
import { compensationsFor as compensationsSolved } from './solutions/03-saga-compensations.js';
import { cases as retry } from './04-retry-or-dead-letter/cases.js';
import { decideFailure as retryGiven } from './04-retry-or-dead-letter/exercise.js';
import { decideFailure as retrySolved } from './solutions/04-retry-or-dead-letter.js';
import { cases as replay } from './05-dead-letter-topic-replay/cases.js';
import { planReplay as replayGiven } from './05-dead-letter-topic-replay/exercise.js';
import { planReplay as replaySolved } from './solutions/05-dead-letter-topic-replay.js';

// The exercises themselves (exercises/*/exercise.spec.ts, the `exercises` vitest project) fail as given: that is the
// learner's starting point, so they are not a test tier. This checks, in the unit tier, that every case of every
// exercise fails against the file as given and passes against the reference solution.

interface Exercise {
  name: string;
  cases: Cases<never>;
  given: unknown;
  solved: unknown;
}

const exercises: Exercise[] = [
  { name: '01-upcaster', cases: upcaster, given: upcasterGiven, solved: upcasterSolved },
  { name: '02-account-read-model', cases: readModel, given: readModelGiven, solved: readModelSolved },
  { name: '03-saga-compensations', cases: compensations, given: compensationsGiven, solved: compensationsSolved },
  { name: '04-retry-or-dead-letter', cases: retry, given: retryGiven, solved: retrySolved },
  { name: '05-dead-letter-topic-replay', cases: replay, given: replayGiven, solved: replaySolved },
];

const outcome = (check: (impl: never) => void, impl: unknown): string => {
  try {
    check(impl as never);
    return 'passed';
  } catch (error) {
    return `failed: ${(error as Error).message.split('\n')[0]}`;
  }
};

describe('exercises/', () => {
  it('has five exercises or more, each with three cases or more', () => {
    expect(exercises.length).toBeGreaterThanOrEqual(5);
    for (const e of exercises) expect(Object.keys(e.cases).length, e.name).toBeGreaterThanOrEqual(3);
  });

  for (const { name, cases, given, solved } of exercises) {
    it(`${name}: every case fails as given and passes with the reference solution`, () => {
      for (const [title, check] of Object.entries(cases)) {
        expect(outcome(check, given), `${name} / ${title}, as given`).toMatch(/^failed: /);
        expect(outcome(check, solved), `${name} / ${title}, solved`).toBe('passed');
      }
    });
  }
});
