import { upcastUserRegistered } from '@am/contracts';
import type { AnyUserRegistered, UserRegisteredV3 } from '../01-upcaster/types.js';

/** Reference solution: chain the upcasters (v1 → v2 is the project's own), one version step at a time. */
export function upcastToV3(event: AnyUserRegistered): UserRegisteredV3 {
  if (event.version === 3) return event;
  const v2 = upcastUserRegistered(event);
  return { ...v2, version: 3, data: { ...v2.data, marketingConsent: false } };
}
