import { NotYetImplemented } from '../lib.js';
import type { AnyUserRegistered, UserRegisteredV3 } from './types.js';

/** Lifts any version of `user.registered` to version 3. Write it: see README.md. */
export function upcastToV3(_event: AnyUserRegistered): UserRegisteredV3 {
  throw new NotYetImplemented('upcastToV3');
}
