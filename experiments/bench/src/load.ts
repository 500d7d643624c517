/** HTTP load for the bench: keep-alive POSTs in a closed model (N in flight) or an open model (fixed rate). */
import { Agent, request } from 'node:http';
import { serviceToken } from '@am/testing';
import { sleep } from './stats.js';

const agent = new Agent({ keepAlive: true, maxSockets: 512 });

export interface PostResult {
  status: number;
  body: string;
}

/** The bench places orders as a service (it acts for many users), with a token signed with the clone's key. */
const token = serviceToken();

/** POSTs JSON with a bearer token: the bench's service token unless `as` names another (a customer's). */
export async function post(url: string, body: string, as?: string): Promise<PostResult> {
  const authorization = `Bearer ${as ?? (await token)}`;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (data += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Closed model: `concurrency` workers each run `task` back to back until `seconds` have passed. Returns the
 * successes counted per second (index 0 = first second).
 */
export async function closedLoop(
  seconds: number,
  concurrency: number,
  task: () => Promise<boolean>,
  onSecond?: (second: number, ok: number) => void,
): Promise<{ perSecond: number[]; ok: number; failed: number }> {
  const started = performance.now();
  const end = started + seconds * 1000;
  const perSecond = new Array<number>(Math.ceil(seconds)).fill(0);
  let ok = 0;
  let failed = 0;
  let reported = 0;
  const ticker = setInterval(() => {
    const second = Math.floor((performance.now() - started) / 1000) - 1;
    if (second >= reported && second < perSecond.length) {
      onSecond?.(second, perSecond[second]!);
      reported = second + 1;
    }
  }, 250);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const success = await task().catch(() => false);
        const second = Math.floor((performance.now() - started) / 1000);
        if (success) {
          ok += 1;
          if (second < perSecond.length) perSecond[second]! += 1;
        } else {
          failed += 1;
          await sleep(10);
        }
      }
    }),
  );
  clearInterval(ticker);
  return { perSecond, ok, failed };
}

/** Open model: starts `task` at `rate` per second for `seconds`, whatever the answers do; waits for all. */
export async function openLoop(seconds: number, rate: number, task: () => Promise<void>): Promise<number> {
  const started = performance.now();
  const pending: Promise<void>[] = [];
  let sent = 0;
  const total = Math.round(seconds * rate);
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    while (sent < due) {
      pending.push(task().catch(() => undefined));
      sent += 1;
    }
    await sleep(5);
  }
  await Promise.all(pending);
  return sent;
}
