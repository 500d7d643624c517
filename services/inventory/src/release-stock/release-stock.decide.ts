import type { ReservationStatus } from '../reservations/reservation.js';

/**
 * What to do with an `inventory.release` command (the compensation of `inventory.reserve`):
 * - `give-back`: return the reserved items to `available` and mark the reservation RELEASED.
 * - `tombstone`: nothing was reserved yet; record RELEASED so that a reserve arriving later is refused.
 * - `nothing`: released before, or never reserved (REJECTED); a compensation is idempotent.
 */
export type ReleaseDecision = 'give-back' | 'tombstone' | 'nothing';

/** Pattern: idempotent compensation. Decides a release from what inventory holds for the order. */
export function decideRelease(existing: ReservationStatus | undefined): ReleaseDecision {
  if (existing === undefined) return 'tombstone';
  switch (existing) {
    case 'RESERVED':
      return 'give-back';
    case 'RELEASED':
    case 'REJECTED':
      return 'nothing';
    default: {
      const _exhaustive: never = existing;
      return _exhaustive;
    }
  }
}
