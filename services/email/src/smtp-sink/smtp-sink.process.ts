import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SinkMessage, SinkStats } from './smtp-sink.server.js';

/** The built program next to this file (`dist/smtp-sink/smtp-sink.js`), also when this file runs from `src`. */
const program = fileURLToPath(new URL('../../dist/smtp-sink/smtp-sink.js', import.meta.url));

/** Talks to a sink's HTTP API. */
export class SmtpSinkClient {
  constructor(readonly apiUrl: string) {}

  /** The messages the sink accepted, optionally only those with `to` among their envelope recipients. */
  async messages(to?: string): Promise<SinkMessage[]> {
    const query = to ? `?to=${encodeURIComponent(to)}` : '';
    const body = (await this.call('GET', `/messages${query}`)) as { messages: SinkMessage[] };
    return body.messages;
  }

  async clear(): Promise<void> {
    await this.call('DELETE', '/messages');
  }

  /** Makes the next `count` deliveries answer 451 (a temporary failure): all of them, or those to `to` only. */
  async failNext(count: number, to?: string): Promise<void> {
    await this.call('POST', '/fail', to === undefined ? { count } : { count, to });
  }

  async stats(): Promise<SinkStats> {
    return (await this.call('GET', '/stats')) as SinkStats;
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    if (!response.ok) throw new Error(`smtp-sink ${method} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? undefined : await response.json();
  }
}

/** A sink running as a child process on ports of its own choosing. */
export class SmtpSinkProcess extends SmtpSinkClient {
  private constructor(
    private readonly child: ChildProcess,
    readonly smtpUrl: string,
    apiUrl: string,
  ) {
    super(apiUrl);
  }

  /**
   * Starts the built sink on free ports (port 0) and resolves once it printed where it listens. Build the
   * email service first (`npx tsc -b services/email`).
   */
  static async start(env: Record<string, string> = {}, timeoutMs = 10_000): Promise<SmtpSinkProcess> {
    const child = spawn(process.execPath, [program], {
      env: { ...process.env, SMTP_SINK_PORT: '0', SMTP_SINK_HTTP_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout });
    try {
      const ready = await new Promise<{ smtpUrl: string; apiUrl: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`smtp-sink did not start within ${timeoutMs} ms`)), timeoutMs);
        child.once('exit', (code) => reject(new Error(`smtp-sink exited during start (code ${code})`)));
        lines.on('line', (line) => {
          let parsed: { smtpUrl?: string; apiUrl?: string } = {};
          try {
            parsed = JSON.parse(line) as typeof parsed;
          } catch {
            // not the start-up line
          }
          if (parsed.smtpUrl && parsed.apiUrl) {
            clearTimeout(timer);
            resolve({ smtpUrl: parsed.smtpUrl, apiUrl: parsed.apiUrl });
          }
        });
      });
      return new SmtpSinkProcess(child, ready.smtpUrl, ready.apiUrl);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await exited;
  }
}
