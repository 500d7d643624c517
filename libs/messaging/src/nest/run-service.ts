import 'reflect-metadata';
import { Global, Module, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory, Reflector } from '@nestjs/core';
import { DataSource, type MixedList } from 'typeorm';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { MessageCatalog } from '@am/contracts';
import {
  createLogger,
  httpObservability,
  initTracing,
  NestPinoLogger,
  ObservabilityModule,
  ServiceMetrics,
} from '@am/observability';
import { createServiceDataSource, databaseRoundTrips, migrate, outboxBacklog } from '@am/persistence';
import { AmqpClient } from '../amqp/amqp-client.js';
import { AccessGuard } from '../auth/access.js';
import { readKey } from '../auth/keys.js';
import { TokenIssuer, TokenVerifier } from '../auth/tokens.js';
import type { AmqpSubscription } from '../amqp/amqp-subscription.js';
import { AmqpRequester, AmqpResponder, type QueryResponder } from '../amqp/request-reply.js';
import type { Envelope } from '@am/contracts';
import { KafkaClient } from '../kafka/kafka-client.js';
import { kafkaAcls } from '../kafka/kafka-acls.js';
import { KafkaMembers } from '../kafka/kafka-consumer.js';
import type { KafkaSubscription } from '../kafka/kafka-subscription.js';
import type { KafkaProjection } from '../kafka/kafka-projection-consumer.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { DependencyBreakers, anyProbe, tcpProbe } from '../outage/dependency-breakers.js';
import { portOf } from '../outage/failure-kind.js';
import { AmqpTransport } from './amqp.transport.js';
import { KafkaTransport } from './kafka.transport.js';
import { RethrowRpcErrorsFilter } from './rethrow-rpc.filter.js';
import { refuseUnstorableInput } from './storable-input.js';
import { rateLimiter } from './rate-limit.js';
import { consumersOn, readServiceConfig, type ServiceConfig } from './service-config.js';
import type { ServiceName } from '../topology.js';
import { FAULT_SERVICE, FAULT_SOURCES, FaultsController } from '../faults/faults.controller.js';
import { OperatorActions } from '../operator-actions/operator-actions.js';
import { faults } from '../faults/fault-switches.js';
import { ConsumerGroupPositions, resettableGroups } from '../kafka/consumer-group-positions.js';
import { ConsumerGroupsController } from '../kafka/consumer-groups.controller.js';

/** Injection token of the service configuration. */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');

export interface ServiceDefinition {
  service: ServiceName;
  /** The service's feature modules (controllers with HTTP routes and `@EventPattern` handlers). */
  imports: Type[];
  migrations: MixedList<Function>;
  entities?: MixedList<Function>;
  amqp?: { subscription: AmqpSubscription; catalog: MessageCatalog }[];
  kafka?: { subscription: KafkaSubscription; catalog: MessageCatalog }[];
  /** Read models fed from Kafka in batches, offsets kept in their transactions (`KafkaProjectionConsumer`). */
  kafkaProjections?: KafkaProjection[];
  /**
   * The service asks other services over RabbitMQ and waits for the answer (request/reply): each process gets its
   * own reply queue, and its routes get the {@link AmqpRequester} by injection.
   */
  requests?: boolean;
  /** Query queues the service answers (request/reply), each with the function that builds the reply. */
  responders?: {
    responder: QueryResponder;
    answer: (request: Envelope, dataSource: DataSource) => Promise<Envelope>;
  }[];
  /** The service signs bearer tokens (orders: a customer's token at registration); it needs the signing key. */
  issuesTokens?: boolean;
  /**
   * Consumer groups of the service, outside its subscriptions, whose output cannot be taken back (the exactly-once
   * loop's sums): an operator's reset may move them forward only (libs/messaging/src/kafka/offset-reset.ts).
   */
  kafkaGroupsWithoutRewind?: { groupId: string; why: string }[];
}

/** A started service: its Nest app and the pieces tests may want to look at. */
export interface RunningService {
  config: ServiceConfig;
  url: string;
  close(): Promise<void>;
}

/**
 * Boots one service: database (migrations under a lock), RabbitMQ, Kafka, the outbox relay, the Nest HTTP
 * app with `/health` and `/metrics`, and the project's transport strategies for its subscriptions. Every
 * service's `main.ts` is one call to this.
 */
export async function runService(
  definition: ServiceDefinition,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningService> {
  const config = readServiceConfig(definition.service, env);
  // The groups the service owns, whether or not this process consumes: an API-only process resets them.
  const groups = resettableGroups(definition.service, {
    subscriptions: [...(definition.kafka ?? []), ...(definition.kafkaProjections ?? [])].map((k) => k.subscription),
    projections: definition.kafkaProjections ?? [],
    noRewind: definition.kafkaGroupsWithoutRewind ?? [],
  });
  // Pattern: intake apart from the workers. `SERVICE_CONSUMERS=off` runs the HTTP routes, the outbox relay and the
  // health checks without consuming anything, so a burst on the API and the work behind it do not share one event
  // loop and one connection pool: run it beside a process of the same service that consumes.
  if (!consumersOn(env)) definition = { ...definition, amqp: [], kafka: [], kafkaProjections: [], responders: [] };
  // Keys first: a service that cannot check tokens must not start (and say where the keys should be).
  const verifier = new TokenVerifier(readKey(config.auth.publicKeyFile, 'token verification key'));
  const issuer = definition.issuesTokens
    ? new TokenIssuer(readKey(config.auth.privateKeyFile, 'token signing key'))
    : undefined;
  // First, so that every client created below publishes and consumes with trace context.
  const tracing = initTracing({ service: config.service, env });
  const logger = createLogger(config.service);
  const metrics = new ServiceMetrics(config.service);
  const messagingMetrics = metrics.messaging();

  const dataSource = createServiceDataSource({
    url: config.databaseUrl,
    migrations: definition.migrations,
    entities: definition.entities ?? [],
    applicationName: config.service,
  });
  await dataSource.initialize();
  const ran = await migrate(dataSource);
  if (ran.length > 0) logger.info({ migrations: ran }, 'database migrated');

  const amqp = new AmqpClient({
    url: config.rabbitmqUrl,
    ...(config.rabbitmqNodes ? { nodes: config.rabbitmqNodes } : {}),
    ...(config.rabbitmqCa ? { ca: config.rabbitmqCa } : {}),
    connectionName: config.service,
    logger,
  });
  await amqp.connect();
  // Pattern: request/reply. This process's reply queue, declared on every (re)connection.
  const requester = definition.requests
    ? new AmqpRequester(amqp, { service: config.service, logger, metrics: messagingMetrics })
    : undefined;
  if (requester) await amqp.addChannelUser(requester);
  const responders = (definition.responders ?? []).map(
    ({ responder, answer }) =>
      new AmqpResponder(amqp, responder, (request) => answer(request, dataSource), {
        logger,
        metrics: messagingMetrics,
      }),
  );
  for (const responder of responders) await amqp.addChannelUser(responder);
  const kafka = new KafkaClient({
    brokers: config.kafkaBrokers,
    clientId: config.service,
    credentials: config.kafkaCredentials(),
    prefix: config.kafkaPrefix,
    ...(config.kafkaTls ? { tls: config.kafkaTls } : {}),
    logger,
  });
  // Only a service that writes to Kafka has a producer: an idempotent producer needs the right to write a topic
  // (the broker refuses its producer id otherwise), and inventory has none (kafka-acls.ts).
  const writesKafka = kafkaAcls().some(
    (a) => a.principal === config.service && a.resource === 'topic' && a.operation === 'write',
  );
  if (writesKafka) await kafka.connectProducer();

  const relay = new OutboxRelay({
    dataSource,
    databaseUrl: config.databaseUrl,
    amqp,
    kafka,
    logger,
    metrics: messagingMetrics,
  });
  await relay.start();

  // Pattern: circuit breaker per dependency, shared by every consumer of the service (docs/delivery-guarantees.md).
  const breakers = new DependencyBreakers({
    probes: {
      postgres: async () => (await dataSource.query<unknown[]>('SELECT 1')).length === 1,
      rabbitmq: () => amqp.isConnected && !amqp.isBlocked,
      // Any broker: with a cluster, one stopped broker must not hold the breaker open while the others serve.
      kafka: anyProbe(config.kafkaBrokers.map((b) => tcpProbe(...splitHostPort(b, 9092)))),
    },
    endpoints: [
      { dependency: 'postgres', port: portOf(config.databaseUrl, 5432) },
      ...(config.rabbitmqNodes ?? [{ port: portOf(config.rabbitmqUrl, 5672) }]).map(({ port }) => ({
        dependency: 'rabbitmq' as const,
        port,
      })),
      ...config.kafkaBrokers.map((b) => ({ dependency: 'kafka' as const, port: splitHostPort(b, 9092)[1] })),
    ],
    logger,
    metrics: messagingMetrics,
  });

  const withRetry = <S extends { retryDelaysMs: readonly number[] }>(s: S): S =>
    config.retryDelaysMs ? { ...s, retryDelaysMs: config.retryDelaysMs } : s;
  const kafkaMembers = new KafkaMembers();
  const kafkaTransport = new KafkaTransport({
    client: kafka,
    dataSource,
    logger,
    metrics: messagingMetrics,
    breakers,
    subscriptions: (definition.kafka ?? []).map((k) => ({ ...k, subscription: withRetry(k.subscription) })),
    projections: (definition.kafkaProjections ?? []).map((p) => ({ ...p, subscription: withRetry(p.subscription) })),
  });

  const checks = [
    { name: 'postgres', check: async () => (await dataSource.query<unknown[]>('SELECT 1')).length === 1 },
    { name: 'rabbitmq', check: () => amqp.isConnected && (requester?.isReady ?? true) },
    {
      name: 'kafka',
      check: () => (!writesKafka || kafka.isProducerConnected) && kafkaTransport.isRunning && kafkaMembers.allRunning,
    },
    // Down while a breaker is open: the consumers are paused; `details` names the dependency and since when. Consumers
    // an operator stopped (a `stop-consumers` fault) are named there too, and leave the check up: nothing is broken,
    // and a probe must not restart the process for it.
    {
      name: 'consumers',
      check: () => !breakers.anyOpen,
      describe: () => {
        const stopped = faults.stoppedByOperator();
        return { paused: breakers.status(), ...(stopped.length > 0 ? { stoppedByOperator: stopped } : {}) };
      },
    },
  ];
  metrics.trackOutboxBacklog(() => outboxBacklog(dataSource.manager));
  metrics.trackDatabaseRoundTrips(databaseRoundTrips);
  const consumedQueues = (definition.amqp ?? []).map((a) => a.subscription.queue);
  metrics.trackQueueDepth(() => amqp.queueDepths(consumedQueues));
  // Each group's lag on its topic and on its replay topic, for the transport's members and the others.
  const consumedTopics = () =>
    [
      ...[...(definition.kafka ?? []), ...(definition.kafkaProjections ?? [])].map((k) => k.subscription),
      ...kafkaMembers.subscriptions,
    ].flatMap(({ topic, groupId, replayTopic }) => [
      { topic, groupId },
      ...(replayTopic ? [{ topic: replayTopic, groupId }] : []),
    ]);
  metrics.trackConsumerLag(() => kafka.consumerLag(consumedTopics()));

  @Global()
  @Module({
    providers: [
      { provide: SERVICE_CONFIG, useValue: config },
      { provide: AmqpClient, useValue: amqp },
      { provide: KafkaClient, useValue: kafka },
      { provide: ServiceMetrics, useValue: metrics },
      { provide: DataSource, useValue: dataSource },
      { provide: DependencyBreakers, useValue: breakers },
      { provide: KafkaMembers, useValue: kafkaMembers },
      { provide: OperatorActions, useValue: new OperatorActions(amqp, config.service, logger) },
      { provide: TokenVerifier, useValue: verifier },
      ...(issuer ? [{ provide: TokenIssuer, useValue: issuer }] : []),
      ...(requester ? [{ provide: AmqpRequester, useValue: requester }] : []),
    ],
    exports: [
      SERVICE_CONFIG,
      AmqpClient,
      KafkaClient,
      ServiceMetrics,
      DataSource,
      DependencyBreakers,
      KafkaMembers,
      OperatorActions,
      TokenVerifier,
      ...(issuer ? [TokenIssuer] : []),
      ...(requester ? [AmqpRequester] : []),
    ],
  })
  class RuntimeModule {}

  // Pattern: fault injection at runtime. What an operator may slow down, fail or switch to at-most-once: the queues
  // and the topics (group consumers) of this service; the relay's pause needs no source.
  const faultSources = [...consumedQueues, ...(definition.kafka ?? []).map(({ subscription: { topic } }) => topic)];
  @Module({
    controllers: [FaultsController],
    providers: [
      { provide: FAULT_SOURCES, useValue: faultSources },
      { provide: FAULT_SERVICE, useValue: definition.service },
    ],
  })
  class FaultsModule {}

  // Pattern: offset reset of a stopped consumer group, previewed first (offset-reset.ts), for the groups it owns.
  @Module({
    controllers: [ConsumerGroupsController],
    providers: [
      {
        provide: ConsumerGroupPositions,
        useValue: new ConsumerGroupPositions(config.service, kafka, dataSource, groups),
      },
    ],
  })
  class ConsumerGroupsModule {}
  metrics.trackFaults(() => faults.list());

  const root: DynamicModule = {
    module: class ServiceRootModule {},
    imports: [
      RuntimeModule,
      FaultsModule,
      ConsumerGroupsModule,
      ObservabilityModule.forRoot(metrics, checks),
      ...definition.imports,
    ],
  };
  const app = await NestFactory.create<NestExpressApplication>(root, {
    logger: new NestPinoLogger(logger),
    bodyParser: false,
  });
  // First, so a flood is refused before any work (not even the body is read).
  if (config.rateLimit) {
    app.use(rateLimiter(config.rateLimit, 'address'));
    app.use(rateLimiter(config.rateLimit, 'token'));
  }
  app.useBodyParser('json', { limit: '64kb' });
  // Strings PostgreSQL cannot store are refused here, on every route, before they can become a lost message.
  app.use(refuseUnstorableInput());
  // After the body parser: the request's span and log context then cover the route handler.
  app.use(httpObservability());
  // Every route says who may call it (`@Access`); a route that says nothing refuses everyone.
  app.useGlobalGuards(new AccessGuard(app.get(Reflector), verifier));
  // Registered before the transports connect: they inherit it, and handler errors reach them unchanged.
  app.useGlobalFilters(new RethrowRpcErrorsFilter(app.getHttpAdapter(), (error) => breakers.classify(error)));
  app.connectMicroservice(
    {
      strategy: new AmqpTransport({
        client: amqp,
        dataSource,
        logger,
        metrics: messagingMetrics,
        breakers,
        subscriptions: (definition.amqp ?? []).map((a) => ({ ...a, subscription: withRetry(a.subscription) })),
      }),
    },
    { inheritAppConfig: true },
  );
  app.connectMicroservice({ strategy: kafkaTransport }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(config.port, config.host);
  const url = `http://127.0.0.1:${config.port}`;
  logger.info({ url, tracesExported: tracing.exporting }, `${config.service} listening`);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      breakers.stop();
      await app.close();
      await Promise.all(responders.map((r) => r.stop()));
      await requester?.stop();
      await relay.stop();
      await amqp.close();
      await kafka.close();
      await dataSource.destroy();
      await tracing.flush().catch(() => undefined);
    })());
  return { config, url, close };
}

/** `host:port` of a broker address, with the default port when it has none. */
function splitHostPort(address: string, defaultPort: number): [string, number] {
  const at = address.lastIndexOf(':');
  if (at < 0) return [address, defaultPort];
  return [address.slice(0, at), Number(address.slice(at + 1)) || defaultPort];
}

/** Runs a service as the process's main program: stops cleanly on SIGTERM/SIGINT, exits non-zero on a failed start. */
export function main(definition: ServiceDefinition): void {
  runAsMain(definition.service, () => runService(definition));
}

/**
 * Runs `start` as the process's main program: on SIGTERM/SIGINT closes what it started and exits 0; a failed start is
 * one fatal JSON log line and exit code 1.
 */
export function runAsMain(service: string, start: () => Promise<{ close(): Promise<void> }>): void {
  start()
    .then((running) => {
      const stop = () => {
        void running.close().finally(() => process.exit(0));
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    })
    .catch((error: unknown) => {
      console.error(
        JSON.stringify({
          level: 'fatal',
          service,
          msg: 'failed to start',
          err: String((error as Error)?.stack ?? error),
        }),
      );
      process.exit(1);
    });
}
