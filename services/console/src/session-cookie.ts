import type { IncomingMessage, ServerResponse } from 'node:http';

/** The cookie that carries a viewer's operator token to the page's own requests (an `EventSource` sends no header). */
export const SESSION_COOKIE = 'console_token';

/**
 * Lets the cookie stand for the bearer header on reads only: a GET or HEAD without an `Authorization` header but with
 * the session cookie is checked as if the header carried the cookie's token. Writes (`POST /session`) need the header.
 */
export function sessionCookieAsBearer() {
  return (request: IncomingMessage, _response: ServerResponse, next: () => void): void => {
    if ((request.method === 'GET' || request.method === 'HEAD') && !request.headers.authorization) {
      const token = readCookie(request.headers.cookie, SESSION_COOKIE);
      if (token) request.headers.authorization = `Bearer ${token}`;
    }
    next();
  };
}

/** The value of cookie `name` in a `Cookie` header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim() || undefined;
  }
  return undefined;
}
