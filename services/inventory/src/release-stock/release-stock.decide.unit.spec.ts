import { describe, expect, it } from 'vitest';
import type { ReservationStatus } from '../reservations/reservation.js';
import { decideRelease, type ReleaseDecision } from './release-stock.decide.js';

// Given what inventory holds for the order, when the saga releases it, then this is the decision.
const given = (existing: ReservationStatus | undefined) => ({
  whenReleased: () => ({
    then: (expected: ReleaseDecision) => expect(decideRelease(existing)).toBe(expected),
  }),
});

describe('release stock (compensation)', () => {
  it('gives the items of a reservation back', () => {
    given('RESERVED').whenReleased().then('give-back');
  });

  it('leaves a tombstone when the reservation has not arrived yet', () => {
    given(undefined).whenReleased().then('tombstone');
  });

  it('does nothing the second time: a compensation is idempotent', () => {
    given('RELEASED').whenReleased().then('nothing');
  });

  it('does nothing for a rejected reservation, which holds no stock', () => {
    given('REJECTED').whenReleased().then('nothing');
  });
});
