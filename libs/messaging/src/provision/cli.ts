/**
 * Provisions the messaging topology: `node libs/messaging/dist/provision/cli.js`.
 * RabbitMQ: vhost, one user per service with least-privilege permissions, policies, exchanges, queues and
 * bindings (through the management API, as the admin user). Kafka: the topics and each service principal's ACLs (as
 * the Kafka admin principal). Idempotent.
 *
 * Environment: RABBITMQ_MANAGEMENT_URL, RABBITMQ_ADMIN_USER, RABBITMQ_ADMIN_PASSWORD, RABBITMQ_VHOST,
 * RABBITMQ_QUEUE_TYPE (`classic`, the default, or `quorum` on a cluster: docs/clusters.md), KAFKA_BROKERS,
 * KAFKA_REPLICATION_FACTOR, KAFKA_PREFIX, KAFKA_ADMIN_USERNAME, KAFKA_ADMIN_PASSWORD, KAFKA_TLS and KAFKA_CA_FILE (or
 * MESSAGING_TLS natively), <SERVICE>_RABBITMQ_PASSWORD per service, and ARTICLE_RABBITMQ_PASSWORD (the account of
 * the article's own listings, made natively and where it is given), CONSOLE_RABBITMQ_PASSWORD (the control room's
 * statistics account, likewise); natively, every password not given is the machine's secret (libs/messaging/src/secrets.ts).
 */
import { KafkaClient } from '../kafka/kafka-client.js';
import { provisionKafka, provisionKafkaAcls } from '../kafka/kafka-provisioner.js';
import { kafkaAdminCredentials, kafkaBrokers, kafkaTlsConfig, nativePassword } from '../nest/service-config.js';
import { Queues, SERVICES, type ServiceName } from '../topology.js';
import { ARTICLE_USER, CONSOLE_USER, provisionRabbit } from './rabbitmq-provisioner.js';

const env = process.env;
const started = performance.now();
const vhost = env.RABBITMQ_VHOST ?? 'messaging';
const queueType = env.RABBITMQ_QUEUE_TYPE ?? 'classic';
if (queueType !== 'classic' && queueType !== 'quorum') {
  throw new Error(`RABBITMQ_QUEUE_TYPE must be classic or quorum, not ${queueType}`);
}
const passwords = Object.fromEntries(
  SERVICES.map((s) => [s, env[`${s.toUpperCase()}_RABBITMQ_PASSWORD`] ?? nativePassword('rabbitmq', s, env)]),
) as Record<ServiceName, string>;

await provisionRabbit(
  {
    managementUrl: env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672',
    user: env.RABBITMQ_ADMIN_USER ?? 'messaging-admin',
    password: env.RABBITMQ_ADMIN_PASSWORD ?? nativePassword('rabbitmq', 'messaging-admin', env),
  },
  {
    vhost,
    passwords,
    queueType,
    // The article's account (docs/security.md): natively always, elsewhere only when its password is given.
    articlePassword:
      env.ARTICLE_RABBITMQ_PASSWORD ??
      (env.RABBITMQ_ADMIN_PASSWORD === undefined ? nativePassword('rabbitmq', ARTICLE_USER, env) : undefined),
    // The control room's read-only statistics account: natively always, elsewhere only when its password is given.
    consolePassword:
      env.CONSOLE_RABBITMQ_PASSWORD ??
      (env.RABBITMQ_ADMIN_PASSWORD === undefined ? nativePassword('rabbitmq', CONSOLE_USER, env) : undefined),
    // The backpressure experiment tightens the bound of the load-leveling queue.
    ...(env.ORDER_PROCESSING_MAX_LENGTH
      ? { queuePolicies: { [Queues.orderProcessing]: { 'max-length': Number(env.ORDER_PROCESSING_MAX_LENGTH) } } }
      : {}),
  },
);
console.log(
  `topology: rabbitmq vhost "${vhost}" with ${SERVICES.length} service users, ${queueType} queues and policies in place`,
);

const { kafkaTls } = kafkaTlsConfig(env);
const kafka = new KafkaClient({
  brokers: kafkaBrokers(env),
  clientId: 'provisioner',
  credentials: kafkaAdminCredentials(env),
  prefix: env.KAFKA_PREFIX ?? '',
  // TLS to Kafka as a service has it (KAFKA_TLS, KAFKA_CA_FILE, MESSAGING_TLS).
  ...(kafkaTls ? { tls: kafkaTls } : {}),
});
// KAFKA_REPLICATION_FACTOR: 1 on a single broker (the default), 3 on a cluster (the Kubernetes ha overlay).
const created = await provisionKafka(kafka, { replicationFactor: Number(env.KAFKA_REPLICATION_FACTOR ?? 1) });
console.log(`topology: kafka topics ${created.length > 0 ? `created: ${created.join(', ')}` : 'in place (already)'}`);
const acls = await provisionKafkaAcls(kafka);
console.log(`topology: kafka ACLs in place: ${acls} bindings for ${SERVICES.length} service principals`);
console.log(`topology: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
