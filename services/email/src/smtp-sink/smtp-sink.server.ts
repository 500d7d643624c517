import type { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

/** One message the sink accepted, as `GET /messages` shows it. */
export interface SinkMessage {
  /** Position in the order of arrival, from 1. */
  id: number;
  /** The `Message-ID` header, angle brackets included; a duplicate send shows up as a repeated value here. */
  messageId: string | null;
  /** The SMTP envelope: MAIL FROM and every RCPT TO. */
  envelope: { from: string | null; to: string[] };
  /** The `From` and `To` headers as text. */
  from: string;
  to: string;
  subject: string;
  text: string;
  /** Every header line, by lower-case name (the last one wins when a name repeats). */
  headers: Record<string, string>;
  receivedAt: string;
}

/** Counters of what the sink did, for tests that prove retries. */
export interface SinkStats {
  accepted: number;
  /** Deliveries answered with a temporary failure. */
  failed: number;
  /** How many of the next deliveries will still be answered with a temporary failure. */
  failNext: number;
  /**
   * Per recipient (lower case): how many of the next deliveries to that address will still fail. A failure for one
   * address leaves everyone else's mail alone, so two people sharing a stack do not use up each other's failures.
   */
  failNextFor: Record<string, number>;
}

export interface SmtpSinkOptions {
  host?: string;
  /** SMTP port; 0 picks a free one. */
  smtpPort?: number;
  /** HTTP port of the API; 0 picks a free one. */
  httpPort?: number;
  /** The first N deliveries answer 451, as if the server were overloaded. */
  failCount?: number;
  /** The oldest messages are dropped beyond this many, so a long-running sink cannot fill the memory. */
  maxMessages?: number;
}

/** A running sink: where it listens, and how to stop it. */
export interface RunningSmtpSink {
  host: string;
  smtpPort: number;
  httpPort: number;
  /** `smtp://host:port`, the value for the email service's SMTP_URL. */
  smtpUrl: string;
  /** `http://host:port`, the base of the HTTP API. */
  apiUrl: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 4_096;
const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** An SMTP error reply; 451 ("local error in processing") is a temporary failure that the client retries. */
class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
  }
}

const addressText = (value: AddressObject | AddressObject[] | undefined): string =>
  (Array.isArray(value) ? value : value ? [value] : []).map((a) => a.text).join(', ');

/**
 * A development SMTP server in the role Mailpit plays in compose: it accepts every message without
 * authentication, keeps it in memory and shows it over HTTP. It can be told to answer the next deliveries
 * with 451 so that tests can watch the email service retry.
 *
 * HTTP API: `GET /messages[?to=ADDRESS]` → `{ total, messages }`, `DELETE /messages` → 204,
 * `POST /fail {count}` → `{ failNext }` (the next deliveries, whoever they are for), `POST /fail {count, to}` →
 * `{ to, failNext }` (the next deliveries to that address only), `GET /stats` → {@link SinkStats}, `GET /health` → `{ status }`.
 */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<RunningSmtpSink> {
  const host = options.host ?? '127.0.0.1';
  const maxMessages = options.maxMessages ?? 10_000;
  const messages: SinkMessage[] = [];
  const stats: SinkStats = { accepted: 0, failed: 0, failNext: options.failCount ?? 0, failNextFor: {} };
  let nextId = 1;

  async function receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<void> {
    const parsed = await simpleParser(stream);
    if (stream.sizeExceeded) throw new SmtpReply(552, '5.3.4 message too big for the smtp-sink');
    const failingFor = session.envelope.rcptTo
      .map((r) => r.address.toLowerCase())
      .find((address) => (stats.failNextFor[address] ?? 0) > 0);
    if (failingFor !== undefined) {
      const left = stats.failNextFor[failingFor]! - 1;
      if (left > 0) stats.failNextFor[failingFor] = left;
      else delete stats.failNextFor[failingFor];
      stats.failed += 1;
      throw new SmtpReply(451, `4.3.0 temporary failure: the smtp-sink was told to fail deliveries to ${failingFor}`);
    }
    if (stats.failNext > 0) {
      stats.failNext -= 1;
      stats.failed += 1;
      throw new SmtpReply(451, '4.3.0 temporary failure: the smtp-sink was told to fail this delivery');
    }
    const headers: Record<string, string> = {};
    for (const { key, line } of parsed.headerLines) headers[key] = line.slice(line.indexOf(':') + 1).trim();
    const mailFrom = session.envelope.mailFrom;
    messages.push({
      id: nextId++,
      messageId: parsed.messageId ?? null,
      envelope: { from: mailFrom ? mailFrom.address : null, to: session.envelope.rcptTo.map((r) => r.address) },
      from: addressText(parsed.from),
      to: addressText(parsed.to),
      subject: parsed.subject ?? '',
      text: parsed.text ?? '',
      headers,
      receivedAt: new Date().toISOString(),
    });
    if (messages.length > maxMessages) messages.splice(0, messages.length - maxMessages);
    stats.accepted += 1;
  }

  const smtp = new SMTPServer({
    authOptional: true,
    size: MAX_MESSAGE_BYTES,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    banner: 'smtp-sink (development only)',
    onData(stream, session, callback) {
      receive(stream, session).then(
        () => callback(),
        (error: unknown) => {
          stream.resume(); // drain whatever the parser left, so the client gets the answer
          callback(error instanceof Error ? error : new Error(String(error)));
        },
      );
    },
  });

  const api = createServer((request, response) => {
    route(request, response).catch((error: unknown) => reply(response, 500, { error: String(error) }));
  });

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://sink');
    const key = `${request.method ?? 'GET'} ${url.pathname}`;
    switch (key) {
      case 'GET /health':
        return reply(response, 200, { status: 'ok' });
      case 'GET /stats':
        return reply(response, 200, stats);
      case 'GET /messages': {
        const to = url.searchParams.get('to')?.toLowerCase();
        const found = to ? messages.filter((m) => m.envelope.to.some((a) => a.toLowerCase() === to)) : messages;
        return reply(response, 200, { total: found.length, messages: found });
      }
      case 'DELETE /messages':
        messages.length = 0;
        return reply(response, 204);
      case 'POST /fail': {
        const order = readFailOrder(await readBody(request));
        if (order === undefined)
          return reply(response, 400, { error: 'body must be {"count": <integer ≥ 0>, "to"?: <e-mail address>}' });
        if (order.to === undefined) {
          stats.failNext = order.count;
          return reply(response, 200, { failNext: stats.failNext });
        }
        if (order.count > 0) stats.failNextFor[order.to] = order.count;
        else delete stats.failNextFor[order.to];
        return reply(response, 200, { to: order.to, failNext: order.count });
      }
      default:
        return reply(response, 404, { error: `no route ${key}` });
    }
  }

  // Errors after start-up (a broken client connection) are reported, not thrown: the sink keeps serving.
  smtp.on('error', (error) =>
    console.error(JSON.stringify({ level: 'warn', msg: 'smtp-sink: smtp error', err: String(error) })),
  );
  const smtpPort = await listening(
    smtp,
    (cb) => smtp.listen(options.smtpPort ?? 1025, host, cb),
    () => smtp.server.address(),
  );
  const httpPort = await listening(
    api,
    (cb) => api.listen(options.httpPort ?? 8025, host, cb),
    () => api.address(),
  );
  return {
    host,
    smtpPort,
    httpPort,
    smtpUrl: `smtp://${host}:${smtpPort}`,
    apiUrl: `http://${host}:${httpPort}`,
    async close() {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
      await new Promise<void>((resolve) => api.close(() => resolve()));
    },
  };
}

/** Starts a server and resolves with the port it listens on, or rejects when the port is taken. */
function listening(
  emitter: EventEmitter,
  start: (callback: () => void) => void,
  address: () => AddressInfo | string | null,
): Promise<number> {
  return new Promise((resolve, reject) => {
    emitter.once('error', reject);
    start(() => {
      emitter.off('error', reject);
      resolve((address() as AddressInfo).port);
    });
  });
}

function readFailOrder(body: string): { count: number; to?: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { count, to } = parsed as { count?: unknown; to?: unknown };
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > 1_000_000) return undefined;
    if (to === undefined) return { count };
    if (typeof to !== 'string' || to.length > 254 || !/^[^@\s]+@[^@\s]+$/.test(to)) return undefined;
    return { count, to: to.toLowerCase() };
  } catch {
    return undefined;
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reply(response: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
