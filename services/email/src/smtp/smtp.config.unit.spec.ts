import { describe, expect, it } from 'vitest';
import { readSmtpConfig } from './smtp.config.js';

describe('smtp configuration', () => {
  it('defaults to the native stack smtp-sink', () => {
    expect(readSmtpConfig({})).toEqual({
      url: 'smtp://127.0.0.1:1025',
      from: { address: 'no-reply@async-shop.example', name: 'Async Shop' },
      timeoutMs: 10_000,
    });
  });

  it('takes SMTP_URL, EMAIL_FROM and SMTP_TIMEOUT_MS from the environment', () => {
    const config = readSmtpConfig({
      SMTP_URL: 'smtp://mailpit:1025',
      EMAIL_FROM: 'shop@example.com',
      SMTP_TIMEOUT_MS: '2000',
    });
    expect(config).toMatchObject({
      url: 'smtp://mailpit:1025',
      from: { address: 'shop@example.com' },
      timeoutMs: 2_000,
    });
  });

  it('refuses an SMTP_URL that is not an smtp URL', () => {
    expect(() => readSmtpConfig({ SMTP_URL: 'mailpit:1025' })).toThrow(/smtp:\/\//);
    expect(() => readSmtpConfig({ SMTP_URL: 'http://mailpit:8025' })).toThrow(/smtp:\/\//);
    expect(() => readSmtpConfig({ SMTP_TIMEOUT_MS: '0' })).toThrow(/SMTP_TIMEOUT_MS/);
  });
});
