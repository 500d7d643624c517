import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { consumersOn, kafkaBrokers, kafkaTlsConfig, nativeTls, readServiceConfig } from './service-config.js';

// A state directory of this test's own: the machine secrets and the CA file the TLS option reads.
const state = mkdtempSync(path.join(tmpdir(), 'service-config-'));
afterAll(() => rmSync(state, { recursive: true, force: true }));
const tls = path.join(state, 'tls');
const base = { MESSAGING_SECRETS_DIR: path.join(state, 'secrets'), MESSAGING_TLS_DIR: tls };
writeFileSync(path.join(state, 'ca.pem'), 'the CA certificate');

describe('the RabbitMQ cluster a service may be given (RABBITMQ_CLUSTER_NODES)', () => {
  it('connects to its first node by default, with the nodes to fail over to', () => {
    const config = readServiceConfig('orders', { ...base, RABBITMQ_CLUSTER_NODES: '127.0.0.1:5701,127.0.0.1:5702' });
    expect(config.rabbitmqUrl).toMatch(/^amqp:\/\/orders:[^@]+@127\.0\.0\.1:5701\/messaging$/);
    expect(config.rabbitmqNodes).toEqual([
      { host: '127.0.0.1', port: 5701 },
      { host: '127.0.0.1', port: 5702 },
    ]);
    expect(readServiceConfig('orders', base).rabbitmqNodes).toBeUndefined();
  });

  it('refuses a list it cannot read, naming the entry', () => {
    expect(() => readServiceConfig('orders', { ...base, RABBITMQ_CLUSTER_NODES: 'rabbit-1' })).toThrow(/"rabbit-1"/);
  });
});

describe('the TLS settings a service reads', () => {
  it('are off by default: amqp:// on 5672, Kafka on 9092 without TLS', () => {
    const config = readServiceConfig('orders', base);
    expect(config.rabbitmqUrl).toMatch(/^amqp:\/\/orders:[^@]+@127\.0\.0\.1:5672\/messaging$/);
    expect(config.rabbitmqCa).toBeUndefined();
    expect(config.kafkaBrokers).toEqual(['127.0.0.1:9092']);
    expect(config.kafkaTls).toBeUndefined();
  });

  it("MESSAGING_TLS=1 moves the defaults to the TLS listeners and the machine's CA, which explicit values override", () => {
    mkdirSync(tls, { recursive: true });
    writeFileSync(path.join(tls, 'ca.crt'), 'the machine CA');
    const config = readServiceConfig('payments', { ...base, MESSAGING_TLS: '1' });
    expect(config.rabbitmqUrl).toMatch(/^amqps:\/\/payments:[^@]+@127\.0\.0\.1:5671\/messaging$/);
    expect(config.rabbitmqCa).toBe('the machine CA');
    expect(config.kafkaBrokers).toEqual(['127.0.0.1:9094']);
    expect(config.kafkaTls).toEqual({ ca: 'the machine CA' });

    const explicit = readServiceConfig('payments', {
      ...base,
      MESSAGING_TLS: '1',
      RABBITMQ_URL: 'amqps://p:x@broker:5671/v',
      RABBITMQ_CA_FILE: path.join(state, 'ca.pem'),
      KAFKA_BROKERS: 'k1:9093, k2:9093',
      KAFKA_CA_FILE: path.join(state, 'ca.pem'),
    });
    expect(explicit.rabbitmqUrl).toBe('amqps://p:x@broker:5671/v');
    expect(explicit.rabbitmqCa).toBe('the CA certificate');
    expect(explicit.kafkaBrokers).toEqual(['k1:9093', 'k2:9093']);
    expect(explicit.kafkaTls).toEqual({ ca: 'the CA certificate' });
  });

  it('KAFKA_CA_FILE turns TLS to Kafka on; KAFKA_TLS=true does it with the CAs Node trusts', () => {
    expect(kafkaTlsConfig({ KAFKA_CA_FILE: path.join(state, 'ca.pem') })).toEqual({
      kafkaTls: { ca: 'the CA certificate' },
    });
    expect(kafkaTlsConfig({ KAFKA_TLS: 'true' })).toEqual({ kafkaTls: {} });
    expect(kafkaTlsConfig({ KAFKA_TLS: 'false' })).toEqual({});
    expect(kafkaBrokers({})).toEqual(['127.0.0.1:9092']);
  });

  it('refuses a value it does not understand instead of falling back to plain text', () => {
    expect(() => nativeTls({ MESSAGING_TLS: 'yes' })).toThrow(/MESSAGING_TLS must be 1 or 0/);
    expect(() => kafkaTlsConfig({ KAFKA_TLS: 'on' })).toThrow(/KAFKA_TLS must be true or false/);
    expect(() => readServiceConfig('orders', { ...base, RABBITMQ_CA_FILE: path.join(state, 'missing.pem') })).toThrow(
      /ENOENT/,
    );
  });
});

describe('SERVICE_CONSUMERS', () => {
  it('consumes unless told off, and refuses anything but on or off', () => {
    expect(consumersOn({})).toBe(true);
    expect(consumersOn({ SERVICE_CONSUMERS: 'on' })).toBe(true);
    expect(consumersOn({ SERVICE_CONSUMERS: 'off' })).toBe(false);
    expect(() => consumersOn({ SERVICE_CONSUMERS: 'maybe' })).toThrow(/SERVICE_CONSUMERS must be on or off/);
  });
});
