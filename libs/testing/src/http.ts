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

/**
 * A request to a route that streams without end (the control room's server-sent events): its status and headers, and
 * the JSON body only when it is not a 200 (a refusal, which does end). The stream itself is closed at once.
 */
export async function openStream(
  url: string,
  authorization: string,
): Promise<{ status: number; body: { error?: string; reason?: string }; headers: Headers }> {
  const response = await fetch(url, {
    headers: authorization ? { authorization } : {},
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status === 200) {
    await response.body?.cancel();
    return { status: 200, body: {}, headers: response.headers };
  }
  const text = await response.text();
  let body: { error?: string; reason?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON: no reason to show
  }
  return { status: response.status, body, headers: response.headers };
}
