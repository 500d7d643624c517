// The native TLS option (docs/security.md#tls): infra/up makes a local CA and the brokers' certificate
// (scripts/tls-certs.sh) and opens amqps on 127.0.0.1:5671 and SASL_SSL on 127.0.0.1:9094 beside the plain
// listeners. A service given RABBITMQ_URL=amqps://…, RABBITMQ_CA_FILE, KAFKA_BROKERS=…:9094 and KAFKA_CA_FILE talks
// to both over TLS, verifying their certificate; a client that does not trust the CA, or that expects another host
// name, is refused. The infrastructure this run uses was set up by infra/up (./stack test runs it first).
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { AmqpClient, KafkaClient, readServiceConfig, silentLogger, tlsDir } from '@am/messaging';
import { testEnv } from '@am/testing';

const env = testEnv();
const caFile = path.join(tlsDir(), 'ca.crt');
const admin = env.admin;
const amqpsUrl = `amqps://${encodeURIComponent(admin.user)}:${encodeURIComponent(admin.password)}@127.0.0.1:5671/%2F`;
const tlsBroker = '127.0.0.1:9094';

/** What a service reads when it is started with the TLS option (`MESSAGING_TLS=1 ./stack up`). */
const native = readServiceConfig('orders', { ...process.env, MESSAGING_TLS: '1' });
/** The same settings with the admin's login on vhost /: this test provisions nothing. */
const config = { ...native, rabbitmqUrl: amqpsUrl };

const topic = `${env.kafkaPrefix}tls-check`;
const kafkaOver = (tls: { ca?: string } | undefined, clientId: string) =>
  new KafkaClient({
    brokers: [tlsBroker],
    clientId,
    credentials: env.kafkaAdmin,
    ...(tls ? { tls } : {}),
  });

afterAll(async () => {
  const kafka = kafkaOver({ ca: readFileSync(caFile, 'utf8') }, 'tls-cleanup');
  const a = kafka.admin();
  await a.connect();
  await a.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await a.disconnect();
});

describe('TLS, natively (the option infra/up sets up)', () => {
  it("keeps the CA's key to its owner, and gives clients the CA certificate only", () => {
    expect(statSync(path.join(tlsDir(), 'ca')).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(tlsDir(), 'ca', 'ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(tlsDir(), 'server', 'server.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(caFile, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    // MESSAGING_TLS=1: the TLS listeners, checked against the machine's CA.
    expect(native.rabbitmqUrl).toMatch(/^amqps:\/\/orders:[^@]+@127\.0\.0\.1:5671\/messaging$/);
    expect(native.kafkaBrokers).toEqual([tlsBroker]);
    expect(config.rabbitmqCa).toBe(readFileSync(caFile, 'utf8'));
    expect(config.kafkaTls).toEqual({ ca: readFileSync(caFile, 'utf8') });
  });

  it("amqps: the project's client connects with the service's TLS settings and a message goes through", async () => {
    const client = new AmqpClient({ url: config.rabbitmqUrl, ca: config.rabbitmqCa!, connectionName: 'tls-check' });
    await client.connect();
    expect(client.isConnected).toBe(true);
    await client.close();

    const connection = await amqp.connect(config.rabbitmqUrl, { ca: [config.rabbitmqCa!] });
    try {
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      channel.sendToQueue(queue, Buffer.from('over tls'));
      let message: amqp.GetMessage | false = false;
      for (let i = 0; i < 50 && !message; i++) {
        message = await channel.get(queue, { noAck: true });
        if (!message) await new Promise((r) => setTimeout(r, 20));
      }
      expect(message && message.content.toString()).toBe('over tls');
    } finally {
      await connection.close();
    }
  });

  it('amqps: refuses a client that does not trust the CA, or that expects another host name', async () => {
    await expect(amqp.connect(amqpsUrl)).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
    await expect(
      amqp.connect(amqpsUrl, { ca: [config.rabbitmqCa!], servername: 'not-the-broker.example' }),
    ).rejects.toThrow(/altnames|does not match|Hostname\/IP/i);
  });

  it("Kafka SASL_SSL: the project's client produces and reads back with the service's TLS settings", async () => {
    const kafka = new KafkaClient({
      brokers: config.kafkaBrokers,
      clientId: 'tls-check',
      credentials: env.kafkaAdmin,
      tls: config.kafkaTls!,
    });
    const a = kafka.admin();
    await a.connect();
    try {
      await a.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
      const producer = await kafka.connectProducer();
      await producer.send({ topic, messages: [{ value: 'over tls' }] });
      await kafka.close();
      const offsets = await a.fetchTopicOffsets(topic);
      expect(offsets.map((o) => Number(o.high))).toEqual([1]);
    } finally {
      await a.disconnect();
    }
  });

  it('Kafka SASL_SSL: refuses a client that does not trust the CA', async () => {
    const kafka = new KafkaClient({
      brokers: [tlsBroker],
      clientId: 'tls-untrusted',
      credentials: env.kafkaAdmin,
      tls: {},
      // Its retries would log each refusal.
      logger: silentLogger,
    });
    const a = kafka.admin();
    await expect(a.connect()).rejects.toThrow(/self[- ]signed|unable to (get|verify)|certificate/i);
  });
});
