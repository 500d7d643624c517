import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Characters PostgreSQL cannot store in `text` or `jsonb`: NUL, and a UTF-16 surrogate without its pair (it has
 * no UTF-8 form). A message carrying one passes every schema, is accepted with 202, and then fails in every
 * database that tries to store it: a lost order. They are refused at the edge instead, on every route.
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Nesting beyond this is refused too: no request of the HTTP contract comes near it. */
const MAX_DEPTH = 32;

/** True when `text` can be stored as it is. */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/**
 * The path (`body.items.0.sku`) of the first string, key or nesting level in `value` that cannot be stored, or
 * undefined when everything can.
 */
export function findUnstorable(value: unknown, path: string, depth = 0): string | undefined {
  if (depth > MAX_DEPTH) return `${path} (nested more than ${MAX_DEPTH} levels)`;
  if (typeof value === 'string') return isStorableText(value) ? undefined : path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorable(value[i], `${path}.${i}`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      if (!isStorableText(key)) return `${path} (a key)`;
      const found = findUnstorable(inner, `${path}.${key}`, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

type Request = IncomingMessage & { body?: unknown; query?: unknown; originalUrl?: string };

/**
 * Express middleware, after the body parser: answers 400 for a request whose path, query or body holds a string
 * PostgreSQL cannot store, or whose path is not valid percent-encoding, before any route sees it.
 */
export function refuseUnstorableInput() {
  return (req: Request, res: ServerResponse, next: () => void): void => {
    let problem: string | undefined;
    const [rawPath = '', rawQuery = ''] = (req.originalUrl ?? req.url ?? '').split('?');
    try {
      problem = findUnstorable(decodeURIComponent(rawPath), 'path');
    } catch {
      problem = 'path (not valid percent-encoding)';
    }
    // The query parser keeps a malformed escape as it is; decode every part here, so it is refused instead.
    for (const part of rawQuery.split(/[&=]/)) {
      if (problem) break;
      try {
        decodeURIComponent(part.replace(/\+/g, ' '));
      } catch {
        problem = 'query (not valid percent-encoding)';
      }
    }
    problem ??= findUnstorable(req.query, 'query') ?? findUnstorable(req.body, 'body');
    if (!problem) return next();
    res.statusCode = 400;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(
      JSON.stringify({
        statusCode: 400,
        error: 'Bad Request',
        message: [`${problem}: contains a character that cannot be stored (NUL or an unpaired UTF-16 surrogate)`],
      }),
    );
  };
}
