#!/usr/bin/env node
// Writes, from the project's own code (libs/messaging: services, ports, topics), so the manifests cannot drift from it:
// - kubernetes/base/services.yaml: a Deployment, a Service and a PodDisruptionBudget for each of the six services,
//   and a Deployment and a Service for the control room (services/console);
// - kubernetes/overlays/ha/topics.yaml: a Strimzi KafkaTopic per topic of the topology (replicated 3 times);
// - kubernetes/overlays/ha/users.yaml: a Strimzi KafkaUser per Kafka principal, with the ACLs of the topology, and the
//   patch that gives each service (and the topology job) the password Strimzi generates for its user.
// `node kubernetes/generate.mjs` (after `npx tsc -b`); tests/kubernetes checks both files are up to date.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PORTS, KAFKA_ADMIN_PRINCIPAL, SERVICES, kafkaAcls, topics } from '../libs/messaging/dist/index.js';
import { CONSOLE_PORT } from '../services/console/dist/console-config.js';

const LABELS = (service, component = 'service') => ({
  'app.kubernetes.io/name': service,
  'app.kubernetes.io/part-of': 'async-messaging',
  'app.kubernetes.io/component': component,
});
const secret = (key) => ({ valueFrom: { secretKeyRef: { name: 'async-messaging-credentials', key } } });

/** The environment of one service: shared settings from the ConfigMap, its own passwords from the Secret. */
function env(service) {
  const upper = service.toUpperCase();
  const own = [
    { name: 'PORT', value: String(DEFAULT_PORTS[service]) },
    {
      name: 'DB_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'async-messaging-credentials', key: `${upper}_DB_PASSWORD` } },
    },
    {
      name: 'RABBITMQ_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'async-messaging-credentials', key: `${upper}_RABBITMQ_PASSWORD` } },
    },
    { name: 'KAFKA_USERNAME', value: service },
    {
      name: 'KAFKA_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'async-messaging-credentials', key: `${upper}_KAFKA_PASSWORD` } },
    },
    { name: 'DATABASE_URL', value: `postgres://${service}:$(DB_PASSWORD)@postgres:5432/${service}` },
    { name: 'RABBITMQ_URL', value: `amqp://${service}:$(RABBITMQ_PASSWORD)@rabbitmq:5672/messaging` },
    { name: 'AUTH_PUBLIC_KEY_FILE', value: '/var/lib/async-messaging/auth/verify/auth-verify.pem' },
  ];
  if (service === 'orders') {
    own.push(
      { name: 'AUTH_PRIVATE_KEY_FILE', value: '/var/lib/async-messaging/auth/signing/auth-signing.pem' },
      { name: 'INVENTORY_URL', value: 'http://inventory:3002' },
      { name: 'PAYMENTS_URL', value: 'http://payments:3003' },
    );
  }
  if (service === 'email') own.push({ name: 'SMTP_URL', value: 'smtp://smtp:1025' });
  return own;
}

/** The token keys (Secret async-messaging-token-keys): the public key for every service, the signing key for orders. */
function keyVolumes(service) {
  const items = [{ key: 'auth-verify.pem', path: 'verify/auth-verify.pem' }];
  if (service === 'orders') items.push({ key: 'auth-signing.pem', path: 'signing/auth-signing.pem' });
  return {
    volumes: [{ name: 'token-keys', secret: { secretName: 'async-messaging-token-keys', items, defaultMode: 0o440 } }],
    mounts: [{ name: 'token-keys', mountPath: '/var/lib/async-messaging/auth', readOnly: true }],
  };
}

/**
 * The control room's environment (services/console): the services by their Service names, RabbitMQ's management API
 * and the password of its statistics account (tag monitoring, no permission on any resource; the topology job makes
 * it), the public key. No database, broker connection or Kafka login.
 */
function consoleEnv() {
  return [
    { name: 'PORT', value: String(CONSOLE_PORT) },
    ...SERVICES.map((s) => ({ name: `${s.toUpperCase()}_URL`, value: `http://${s}:${DEFAULT_PORTS[s]}` })),
    { name: 'RABBITMQ_MANAGEMENT_URL', value: 'http://rabbitmq:15672' },
    { name: 'RABBITMQ_VHOST', value: 'messaging' },
    { name: 'CONSOLE_RABBITMQ_PASSWORD', ...secret('CONSOLE_RABBITMQ_PASSWORD') },
    { name: 'AUTH_PUBLIC_KEY_FILE', value: '/var/lib/async-messaging/auth/verify/auth-verify.pem' },
  ];
}

function deployment(
  service,
  { port = DEFAULT_PORTS[service], component = 'service', environment = env(service) } = {},
) {
  const keys = keyVolumes(service);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: service, labels: LABELS(service, component) },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': service } },
      template: {
        metadata: { labels: LABELS(service, component) },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 },
          containers: [
            {
              name: service,
              image: `async-messaging/${service}:dev`,
              ports: [{ name: 'http', containerPort: port }],
              envFrom: [{ configMapRef: { name: 'async-messaging-config' } }],
              env: environment,
              // Ready while its brokers and database answer and no breaker has paused its consumers; alive while it
              // serves at all (/metrics): an outage of a dependency must not restart every pod.
              readinessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 5, failureThreshold: 3 },
              livenessProbe: {
                httpGet: { path: '/metrics', port: 'http' },
                periodSeconds: 10,
                failureThreshold: 6,
                initialDelaySeconds: 20,
              },
              resources: { requests: { cpu: '100m', memory: '192Mi' }, limits: { memory: '512Mi' } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: keys.mounts,
            },
          ],
          volumes: keys.volumes,
        },
      },
    },
  };
}

const service = (name, { port = DEFAULT_PORTS[name], component = 'service' } = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, labels: LABELS(name, component) },
  spec: {
    selector: { 'app.kubernetes.io/name': name },
    ports: [{ name: 'http', port, targetPort: 'http' }],
  },
});

const disruptionBudget = (name) => ({
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name, labels: LABELS(name) },
  spec: { maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': name } } },
});

/** The file's text: YAML documents as JSON (valid YAML, and stable to diff). */
export function renderServices() {
  // The console: one replica, no disruption budget (it holds nothing; a page reconnects to its stream).
  const room = { port: CONSOLE_PORT, component: 'console' };
  const docs = [
    ...SERVICES.flatMap((s) => [deployment(s), service(s), disruptionBudget(s)]),
    deployment('console', { ...room, environment: consoleEnv() }),
    service('console', room),
  ];
  return `# Generated by kubernetes/generate.mjs from libs/messaging (services and ports): do not edit by hand.\n${docs
    .map((d) => `---\n${JSON.stringify(d, null, 2)}\n`)
    .join('')}`;
}

/** The topics of the topology as Strimzi KafkaTopics: three replicas, two in sync for a write (acks=all). */
export function renderTopics() {
  const docs = topics.map((t) => ({
    apiVersion: 'kafka.strimzi.io/v1beta2',
    kind: 'KafkaTopic',
    metadata: { name: t.name.replace(/[^a-z0-9-]/g, '-'), labels: { 'strimzi.io/cluster': 'kafka' } },
    spec: {
      topicName: t.name,
      partitions: t.partitions,
      replicas: 3,
      config: { 'min.insync.replicas': 2, 'max.message.bytes': t.maxMessageBytes },
    },
  }));
  return `# Generated by kubernetes/generate.mjs from libs/messaging (the topology's topics): do not edit by hand.\n${docs
    .map((d) => `---\n${JSON.stringify(d, null, 2)}\n`)
    .join('')}`;
}

const STRIMZI_RESOURCE = { topic: 'topic', group: 'group', 'transactional-id': 'transactionalId' };
const STRIMZI_OPERATION = { read: 'Read', write: 'Write', describe: 'Describe' };

/**
 * The Kafka principals as Strimzi KafkaUsers (SCRAM-SHA-512, the one SCRAM the User Operator supports): one per
 * service with the ACLs of the topology (kafkaAcls, the same list the provisioner grants natively and in compose),
 * and the admin (a super user of the cluster, for the topology job). Strimzi writes each user's password into a
 * Secret named after it; the patch below points the services and the topology job at those Secrets.
 */
export function renderUsers() {
  const acls = kafkaAcls('');
  const user = (name, authorization) => ({
    apiVersion: 'kafka.strimzi.io/v1beta2',
    kind: 'KafkaUser',
    metadata: { name, labels: { 'strimzi.io/cluster': 'kafka' } },
    spec: { authentication: { type: 'scram-sha-512' }, ...(authorization ? { authorization } : {}) },
  });
  const users = [
    user(KAFKA_ADMIN_PRINCIPAL),
    ...SERVICES.filter((s) => acls.some((a) => a.principal === s)).map((s) =>
      user(s, {
        type: 'simple',
        acls: acls
          .filter((a) => a.principal === s)
          .map((a) => ({
            resource: {
              type: STRIMZI_RESOURCE[a.resource],
              name: a.name,
              patternType: a.pattern === 'prefixed' ? 'prefix' : 'literal',
            },
            operations: [STRIMZI_OPERATION[a.operation]],
          })),
      }),
    ),
  ];
  const password = (secret) => ({ valueFrom: { secretKeyRef: { name: secret, key: 'password' } } });
  const patches = [
    ...SERVICES.filter((s) => acls.some((a) => a.principal === s)).map((s) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: s },
      spec: { template: { spec: { containers: [{ name: s, env: [{ name: 'KAFKA_PASSWORD', ...password(s) }] }] } } },
    })),
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'topology' },
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'topology', env: [{ name: 'KAFKA_ADMIN_PASSWORD', ...password(KAFKA_ADMIN_PRINCIPAL) }] },
            ],
          },
        },
      },
    },
  ];
  const file = (docs, what) =>
    `# Generated by kubernetes/generate.mjs from libs/messaging (${what}): do not edit by hand.\n${docs
      .map((d) => `---\n${JSON.stringify(d, null, 2)}\n`)
      .join('')}`;
  return {
    users: file(users, 'the Kafka principals and their ACLs'),
    passwords: file(patches, "each principal's password from the Secret Strimzi writes"),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { users, passwords } = renderUsers();
  for (const [file, text] of [
    ['./base/services.yaml', renderServices()],
    ['./overlays/ha/topics.yaml', renderTopics()],
    ['./overlays/ha/users.yaml', users],
    ['./overlays/ha/user-passwords.yaml', passwords],
  ]) {
    writeFileSync(fileURLToPath(new URL(file, import.meta.url)), text);
    console.log(`wrote kubernetes/${file.slice(2)}`);
  }
}
