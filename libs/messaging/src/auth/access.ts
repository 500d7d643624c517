import {
  ForbiddenException,
  Injectable,
  SetMetadata,
  UnauthorizedException,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ACCESS_METADATA } from '@am/observability';
import { InvalidTokenError, type Caller, type Role, type TokenVerifier } from './tokens.js';

/** A route's access rule: open to everyone, or the roles whose tokens it accepts. */
export type AccessRule = { public: true } | { roles: readonly Role[] };

/**
 * Says who may call a route (on the handler or its controller): `@Access('public')` for everyone, else the roles
 * whose bearer tokens are accepted. A route without a rule refuses every caller (deny by default).
 */
export function Access(...rule: ['public'] | Role[]) {
  return SetMetadata(ACCESS_METADATA, rule[0] === 'public' ? { public: true } : { roles: rule as Role[] });
}

/** The verified caller of the request (undefined on a public route called without a token). */
export const CurrentCaller = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Caller | undefined =>
    ctx.switchToHttp().getRequest<{ caller?: Caller }>().caller,
);

/** The JSON body of a refusal: which kind (`error`) and why (`reason`). */
const refusal = (error: 'unauthorized' | 'forbidden', reason: string) => ({
  statusCode: error === 'unauthorized' ? 401 : 403,
  error,
  reason,
});

/**
 * The global guard of every service's HTTP routes: reads the route's rule, verifies the bearer token, and refuses
 * with 401 (no token, or one that does not verify) or 403 (a valid token of a role the route does not accept).
 * Message handlers (`@EventPattern`) are not HTTP and pass.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    const http = context.switchToHttp();
    const request = http.getRequest<{ headers: Record<string, string | undefined>; caller?: Caller }>();
    if (!rule) throw new ForbiddenException(refusal('forbidden', 'this route declares no access rule'));
    if ('public' in rule) return true;
    const match = /^Bearer +([^ ]+)$/i.exec(request.headers.authorization ?? '');
    const response = http.getResponse<{ setHeader(name: string, value: string): void }>();
    if (!match) {
      response.setHeader('WWW-Authenticate', 'Bearer');
      throw new UnauthorizedException(
        refusal('unauthorized', 'this route needs a bearer token (Authorization: Bearer ...)'),
      );
    }
    let caller: Caller;
    try {
      caller = await this.verifier.verify(match[1]!);
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) throw error;
      response.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new UnauthorizedException(refusal('unauthorized', error.message));
    }
    if (!rule.roles.includes(caller.role)) {
      throw new ForbiddenException(
        refusal('forbidden', `a ${caller.role} token may not call this route (it accepts: ${rule.roles.join(', ')})`),
      );
    }
    request.caller = caller;
    return true;
  }
}

/**
 * A customer may act only on their own account: `userId` must be the token's subject. Operators and services (the
 * route's rule already said whether they may call it) act on any account.
 */
export function requireOwnAccount(caller: Caller | undefined, userId: string): void {
  if (caller?.role === 'customer' && caller.subject !== userId) {
    throw new ForbiddenException(refusal('forbidden', 'a customer may act only on their own account'));
  }
}

/** Same for an e-mail address: a customer reads only the mail sent to the address they registered with. */
export function requireOwnAddress(caller: Caller | undefined, address: string): void {
  if (caller?.role === 'customer' && caller.email?.toLowerCase() !== address.toLowerCase()) {
    throw new ForbiddenException(
      refusal('forbidden', 'a customer may read only the e-mails sent to their own address'),
    );
  }
}
