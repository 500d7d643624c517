import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { authKeyFiles, readKey } from './keys.js';

/** The three kinds of caller (docs/security.md). */
export const ROLES = ['customer', 'operator', 'service'] as const;
export type Role = (typeof ROLES)[number];

/** Who called: from a verified token. For a customer, `subject` is their user id. */
export interface Caller {
  role: Role;
  subject: string;
  /** A customer's e-mail address (the one they registered with). */
  email?: string;
}

const ISSUER = 'async-messaging';
const AUDIENCE = 'async-messaging';
const ALGORITHM = 'EdDSA';

/** How long a token of each role is valid for unless said otherwise. */
export const DEFAULT_TTL_SECONDS: Record<Role, number> = {
  customer: 30 * 24 * 3600,
  operator: 12 * 3600,
  service: 24 * 3600,
};

export class TokenIssuer {
  private readonly key: KeyObject;

  constructor(privateKeyPem: string) {
    this.key = createPrivateKey(privateKeyPem);
  }

  static fromDir(dir: string): TokenIssuer {
    return new TokenIssuer(readKey(authKeyFiles(dir).privateKey, 'token signing key'));
  }

  issue(caller: Caller, ttlSeconds = DEFAULT_TTL_SECONDS[caller.role]): Promise<string> {
    return new SignJWT({ role: caller.role, ...(caller.email ? { email: caller.email } : {}) })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(caller.subject)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(this.key);
  }
}

/** Why a token was refused, said in the 401's body. */
export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

/** Verified tokens kept for a while: a client sends the same token with every request, verified once. */
const CACHE_LIMIT = 10_000;

export class TokenVerifier {
  private readonly key: KeyObject;
  private readonly cache = new Map<string, { caller: Caller; expiresAtMs: number }>();

  constructor(publicKeyPem: string) {
    this.key = createPublicKey(publicKeyPem);
  }

  static fromDir(dir: string): TokenVerifier {
    return new TokenVerifier(readKey(authKeyFiles(dir).publicKey, 'token verification key'));
  }

  async verify(token: string): Promise<Caller> {
    const cached = this.cache.get(token);
    if (cached && cached.expiresAtMs > Date.now()) return cached.caller;
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: [ALGORITHM],
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new InvalidTokenError('the token has expired');
      throw new InvalidTokenError(`the token is not valid (${(error as Error).message})`);
    }
    const role = payload.role;
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
      throw new InvalidTokenError('the token names no known role');
    }
    const caller: Caller = {
      role: role as Role,
      subject: payload.sub!,
      ...(typeof payload.email === 'string' ? { email: payload.email } : {}),
    };
    if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(token, { caller, expiresAtMs: payload.exp! * 1000 });
    return caller;
  }
}

/**
 * A service's own service token, for its calls to other services' service-only routes (the synchronous baseline):
 * issued with the service's signing key, reissued when half its life has passed.
 */
export class OwnServiceToken {
  private current?: { token: Promise<string>; renewAtMs: number };

  constructor(
    private readonly issuer: TokenIssuer,
    private readonly service: string,
  ) {}

  get(): Promise<string> {
    if (!this.current || this.current.renewAtMs <= Date.now()) {
      const ttl = DEFAULT_TTL_SECONDS.service;
      this.current = {
        token: this.issuer.issue({ role: 'service', subject: this.service }, ttl),
        renewAtMs: Date.now() + (ttl * 1000) / 2,
      };
    }
    return this.current.token;
  }
}
