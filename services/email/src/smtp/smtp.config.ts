/** Where and as whom the service sends e-mail; read from the environment like the rest of the service config. */
export interface SmtpConfig {
  /** `smtp://host:port` (or `smtps://user:pass@host:port`); nodemailer reads the URL as it is. */
  url: string;
  /** The `From` of every e-mail. */
  from: { address: string; name: string };
  /** Upper bound of one SMTP conversation: a hung server must not hold a database transaction for long. */
  timeoutMs: number;
}

/** The environment variables the email service reads beside the common ones (`CONFIG_ENV`). */
export const SMTP_ENV = ['SMTP_URL', 'EMAIL_FROM', 'SMTP_TIMEOUT_MS'] as const;

/** Reads the SMTP settings; the defaults fit the native stack's smtp-sink on 127.0.0.1:1025. */
export function readSmtpConfig(env: NodeJS.ProcessEnv = process.env): SmtpConfig {
  const url = env.SMTP_URL ?? 'smtp://127.0.0.1:1025';
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new Error(`SMTP_URL must be a URL like smtp://host:port, got ${url}`);
  }
  if (protocol !== 'smtp:' && protocol !== 'smtps:') {
    throw new Error(`SMTP_URL must start with smtp:// or smtps://, got ${url}`);
  }
  const timeoutMs = Number(env.SMTP_TIMEOUT_MS ?? 10_000);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new Error(`SMTP_TIMEOUT_MS must be a positive integer, got ${env.SMTP_TIMEOUT_MS}`);
  }
  return {
    url,
    from: { address: env.EMAIL_FROM ?? 'no-reply@async-shop.example', name: 'Async Shop' },
    timeoutMs,
  };
}
