import type { IncomingMessage, ServerResponse } from 'node:http';

/** The cookie that carries a viewer's operator token to the page's own requests (an `EventSource` sends no header). */
export const SESSION_COOKIE = 'console_token';

/**
 * The header the page adds to its own writes (the fault buttons). A page on another site cannot send it: a custom
 * header makes the browser ask first (a CORS preflight), and the console grants none. With the cookie's
 * `SameSite=Strict`, that keeps another site from switching a fault on with the viewer's session.
 */
export const WRITE_HEADER = 'x-control-room';

/**
 * Lets the cookie stand for the bearer header: on reads (a GET or HEAD), and on the page's own writes to `/api/` (a
 * POST or DELETE carrying `x-control-room: 1`), a request without an `Authorization` header but with the session
 * cookie is checked as if the header carried the cookie's token. Other writes (`POST /session`) need the header.
 */
export function sessionCookieAsBearer() {
  return (request: IncomingMessage, _response: ServerResponse, next: () => void): void => {
    const read = request.method === 'GET' || request.method === 'HEAD';
    const pageWrite =
      (request.method === 'POST' || request.method === 'DELETE') &&
      (request.url ?? '').startsWith('/api/') &&
      request.headers[WRITE_HEADER] === '1';
    if ((read || pageWrite) && !request.headers.authorization) {
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
