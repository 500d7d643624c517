/** What a synchronous call to another service came back with. */
export type CallResult<T> =
  | { kind: 'ok'; status: number; body: T }
  | { kind: 'refused'; status: number; body: { reason?: string; message?: unknown } }
  | { kind: 'failed'; timeout: boolean; message: string };

/** How long one call to inventory or payments may take before the order gives up on it. */
export const syncCallTimeoutMs = () => Number(process.env.SYNC_CALL_TIMEOUT_MS ?? 5_000);

export const inventoryUrl = () => process.env.INVENTORY_URL ?? 'http://127.0.0.1:3002';
export const paymentsUrl = () => process.env.PAYMENTS_URL ?? 'http://127.0.0.1:3003';

/**
 * POSTs JSON and waits at most `timeoutMs`. A 2xx is `ok`; a 4xx is the other service's business answer
 * (`refused`); a 5xx, a refused connection or the timeout is `failed`: the answer is unknown.
 */
export async function postJson<T>(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  timeoutMs = syncCallTimeoutMs(),
): Promise<CallResult<T>> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    const parsed = (text ? JSON.parse(text) : {}) as unknown;
    if (response.ok) return { kind: 'ok', status: response.status, body: parsed as T };
    if (response.status < 500) return { kind: 'refused', status: response.status, body: parsed as { reason?: string } };
    return { kind: 'failed', timeout: false, message: `${url}: HTTP ${response.status} ${text.slice(0, 200)}` };
  } catch (error) {
    const timeout = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return {
      kind: 'failed',
      timeout,
      message: timeout ? `${url}: no answer within ${timeoutMs} ms` : `${url}: ${(error as Error).message}`,
    };
  }
}
