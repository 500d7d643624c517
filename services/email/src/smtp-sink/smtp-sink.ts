import { startSmtpSink } from './smtp-sink.server.js';

// The development SMTP server as a program: `node services/email/dist/smtp-sink/smtp-sink.js`.
// Environment: SMTP_SINK_HOST (127.0.0.1), SMTP_SINK_PORT (1025), SMTP_SINK_HTTP_PORT (8025; 0 = any free port),
// SMTP_SINK_FAIL_COUNT (0: the first N deliveries answer 451). Prints one JSON line with the ports once it listens.

function integer(name: string, fallback: number, max: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw new Error(`${name} must be an integer from 0 to ${max}`);
  return value;
}

const sink = await startSmtpSink({
  host: process.env.SMTP_SINK_HOST ?? '127.0.0.1',
  smtpPort: integer('SMTP_SINK_PORT', 1025, 65_535),
  httpPort: integer('SMTP_SINK_HTTP_PORT', 8025, 65_535),
  failCount: integer('SMTP_SINK_FAIL_COUNT', 0, 1_000_000),
});
console.log(
  JSON.stringify({
    level: 'info',
    msg: 'smtp-sink listening',
    smtpUrl: sink.smtpUrl,
    apiUrl: sink.apiUrl,
    smtpPort: sink.smtpPort,
    httpPort: sink.httpPort,
  }),
);
const stop = () => void sink.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
