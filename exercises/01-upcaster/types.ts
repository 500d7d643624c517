import type { Envelope, UserRegisteredV1, UserRegisteredV2 } from '@am/contracts';

/**
 * `user.registered` version 3, as the next release of orders will send it: version 2's data plus `marketingConsent`,
 * which the registration form asks for from now on. Everyone who registered before never gave it.
 */
export type UserRegisteredV3 = Envelope<'user.registered', UserRegisteredV2['data'] & { marketingConsent: boolean }, 3>;

/** Every version a consumer may still find in a queue or a replayed log. */
export type AnyUserRegistered = UserRegisteredV1 | UserRegisteredV2 | UserRegisteredV3;

export type UpcastToV3 = (event: AnyUserRegistered) => UserRegisteredV3;
