import { defaultRoleFor, tokenFor } from './tokens.js';

/**
 * JSON over HTTP for tests: the status and the parsed body, never a throw on 4xx/5xx. Sends a bearer token of the
 * route's usual caller (`defaultRoleFor`) unless `headers` has an `authorization` of its own; an empty one sends
 * none.
 */
export async function http<T = unknown>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const given = Object.keys(headers).find((h) => h.toLowerCase() === 'authorization');
  const { [given ?? '']: authorization, ...rest } = headers;
  const auth =
    given === undefined
      ? { authorization: `Bearer ${await tokenFor({ role: defaultRoleFor(method, url), subject: 'tests' })}` }
      : authorization
        ? { authorization }
        : {};
  const response = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...auth, ...rest },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}
