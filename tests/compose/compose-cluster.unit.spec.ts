import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_ENV, SERVICES } from '@am/messaging';
import { TRACING_ENV } from '@am/observability';
import {
  clusterCompose,
  compose,
  composeSchemaValidator,
  interpolation,
  mergeCompose,
  read,
  readYaml,
  requiredVariable,
  root,
  secretsIn,
  type ComposeFile,
  type ComposeService,
} from './compose-files.js';

/**
 * The cluster profile (docker-compose.cluster.yml over docker-compose.yml): three RabbitMQ nodes and three Kafka
 * brokers, checked offline as the single-node file is (compose.unit.spec.ts), on the file compose makes of the two.
 */

const single = compose();
const file = clusterCompose();
const services = file.services;
const override = readYaml<ComposeFile>('docker-compose.cluster.yml');
const app = (name: string): ComposeService => {
  const service = services[name];
  if (!service) throw new Error(`the cluster profile has no service ${name}`);
  return service;
};
const env = (name: string) => app(name).environment ?? {};

/** The broker nodes: the containers started by the brokers' own entrypoints. */
const nodesOf = (script: string) =>
  Object.entries(services)
    .filter(([, s]) => Array.isArray(s.entrypoint) && s.entrypoint.includes(`/opt/async-messaging/${script}`))
    .map(([name]) => name)
    .sort();
const rabbitNodes = nodesOf('start-rabbitmq.sh');
const kafkaNodes = nodesOf('start-kafka.sh');

/** Where a node is reached in the network: its host name, which is its service name or one of its aliases. */
const hostOf = (name: string) => app(name).hostname ?? name;

/** The settings of compose/rabbitmq/cluster.conf (`key = value` lines). */
const clusterConf = Object.fromEntries(
  read('compose/rabbitmq/cluster.conf')
    .split('\n')
    .filter((line) => /^[a-z]/.test(line))
    .map((line) => line.split(' = ') as [string, string]),
);

/** The AMQP port of every node: the TLS listener, the only one (compose/rabbitmq/tls.conf). */
const amqpsPort = /^listeners\.ssl\.default = (\d+)$/m.exec(read('compose/rabbitmq/tls.conf'))![1];

const ONE_SHOT = new Set(['topology', 'auth-keys', 'tls-certs', 'k6']);

describe('docker-compose.cluster.yml (the cluster profile)', () => {
  it('validates, merged over docker-compose.yml as compose merges them, against the Compose Specification schema', () => {
    const validate = composeSchemaValidator();
    expect(validate(file), JSON.stringify(validate.errors, null, 2)).toBe(true);
    // Its own project: its containers and volumes are apart from the single-node stack's.
    expect(file.name).toBe('async-messaging-cluster');
    expect(file.name).not.toBe(single.name);
  });

  it('merges as compose does: a mapping key by key, volumes by their path in the container, ports joined', () => {
    const merged = mergeCompose(
      {
        services: {
          a: {
            image: 'x:1',
            environment: { A: '1', B: '2' },
            volumes: ['data:/data', './f:/etc/f:ro'],
            ports: ['127.0.0.1:1:1'],
            depends_on: { b: { condition: 'service_healthy' } },
          },
        },
        volumes: { data: null },
      },
      {
        services: {
          a: {
            hostname: 'a-1',
            environment: { B: '3' },
            volumes: ['other:/data'],
            ports: ['127.0.0.1:2:2'],
            depends_on: { c: { condition: 'service_healthy' } },
          },
          c: { image: 'y:1' },
        },
        volumes: { other: null },
      },
    );
    expect(merged.services.a).toEqual({
      image: 'x:1',
      hostname: 'a-1',
      environment: { A: '1', B: '3' },
      volumes: ['other:/data', './f:/etc/f:ro'],
      ports: ['127.0.0.1:1:1', '127.0.0.1:2:2'],
      depends_on: { b: { condition: 'service_healthy' }, c: { condition: 'service_healthy' } },
    });
    expect(Object.keys(merged.services).sort()).toEqual(['a', 'c']);
    expect(Object.keys(merged.volumes ?? {}).sort()).toEqual(['data', 'other']);
  });

  it('runs three RabbitMQ nodes and three Kafka nodes, an odd number of each, and no single-node broker', () => {
    expect(rabbitNodes).toEqual(['rabbitmq', 'rabbitmq-2', 'rabbitmq-3']);
    expect(kafkaNodes).toEqual(['kafka', 'kafka-2', 'kafka-3']);
    for (const nodes of [rabbitNodes, kafkaNodes]) expect(nodes.length % 2, nodes.join(' ')).toBe(1);
    expect(rabbitNodes.map(hostOf)).toEqual(['rabbitmq-1', 'rabbitmq-2', 'rabbitmq-3']);
    expect(kafkaNodes.map(hostOf)).toEqual(['kafka-1', 'kafka-2', 'kafka-3']);
    // Node 1 keeps its service name (docker-compose.yml's depends_on wait for it) and is reached by its host name.
    for (const name of ['rabbitmq', 'kafka']) {
      expect(app(name).networks?.default?.aliases, name).toEqual([hostOf(name)]);
    }
    // Every broker container is a cluster member: nothing is left of the single nodes' configuration.
    for (const name of rabbitNodes) {
      expect(app(name).volumes, name).toContain(
        './compose/rabbitmq/cluster.conf:/etc/rabbitmq/conf.d/40-cluster.conf:ro',
      );
    }
    for (const name of kafkaNodes) {
      expect(String(env(name).KAFKA_CONTROLLER_QUORUM_VOTERS).split(','), name).toHaveLength(3);
    }
    // The images are those of the single nodes.
    for (const name of rabbitNodes) expect(app(name).image, name).toBe(single.services.rabbitmq!.image);
    for (const name of kafkaNodes) expect(app(name).image, name).toBe(single.services.kafka!.image);
  });

  it('joins the RabbitMQ nodes by classic_config peer discovery, all with one Erlang cookie from .env', () => {
    expect(clusterConf['cluster_formation.peer_discovery_backend']).toBe('classic_config');
    const listed = Object.entries(clusterConf)
      .filter(([key]) => key.startsWith('cluster_formation.classic_config.nodes.'))
      .map(([, node]) => node);
    // The node names are rabbit@<host name> (the image's default): the list names exactly the three.
    expect(listed).toEqual(rabbitNodes.map((n) => `rabbit@${hostOf(n)}`));
    for (const name of rabbitNodes) {
      expect(env(name).ERLANG_COOKIE, name).toBe(requiredVariable('RABBITMQ_ERLANG_COOKIE'));
    }
    // The entrypoint writes it into the rabbitmq user's cookie file, readable by that user only, then forgets it.
    const start = read('compose/rabbitmq/start.sh');
    expect(start).toContain('/var/lib/rabbitmq/.erlang.cookie');
    expect(start).toMatch(/chmod 400 "\$file"/);
    expect(start).toMatch(/^unset ERLANG_COOKIE$/m);
    execFileSync('bash', ['-n', fileURLToPath(new URL('compose/rabbitmq/start.sh', root))]);
  });

  it('lets each RabbitMQ node boot the first time only after the nodes before it, so that they form one cluster', () => {
    const joinAfter = rabbitNodes.map((name) =>
      String(env(name).RABBITMQ_JOIN_AFTER ?? '')
        .split(' ')
        .filter(Boolean),
    );
    expect(joinAfter).toEqual([[], ['rabbitmq-1'], ['rabbitmq-1', 'rabbitmq-2']]);
    // Not through depends_on: a restarted cluster's nodes must start together (each waits for the others' tables).
    for (const name of rabbitNodes) {
      expect(Object.keys(app(name).depends_on ?? {}), name).toEqual(['tls-certs']);
    }
    expect(read('compose/rabbitmq/start.sh')).toContain('ls -A /var/lib/rabbitmq/mnesia');
  });

  it('pauses a RabbitMQ minority (pause_minority) and spreads quorum queue leaders (balanced)', () => {
    expect(clusterConf.cluster_partition_handling).toBe('pause_minority');
    expect(clusterConf.queue_leader_locator).toBe('balanced');
  });

  it('loads definitions without queues at boot; the topology job declares every queue a quorum queue', () => {
    for (const name of rabbitNodes) {
      expect(app(name).volumes, name).toContain(
        './compose/rabbitmq/definitions.cluster.json:/etc/rabbitmq/definitions.template.json:ro',
      );
      expect(app(name).volumes, name).not.toContain(
        './compose/rabbitmq/definitions.json:/etc/rabbitmq/definitions.template.json:ro',
      );
    }
    const definitions = JSON.parse(read('compose/rabbitmq/definitions.cluster.json')) as { queues: unknown[] };
    expect(definitions.queues).toEqual([]);
    expect(env('topology').RABBITMQ_QUEUE_TYPE).toBe('quorum');
    // The provisioner takes the variable and declares each queue with x-queue-type quorum.
    expect(read('libs/messaging/src/provision/cli.ts')).toContain('env.RABBITMQ_QUEUE_TYPE');
    expect(read('libs/messaging/src/provision/rabbitmq-provisioner.ts')).toContain("{ 'x-queue-type': 'quorum' }");
  });

  it('runs Kafka as three KRaft nodes, broker and controller each, of one static quorum', () => {
    const voters = kafkaNodes.map((name) => String(env(name).KAFKA_CONTROLLER_QUORUM_VOTERS));
    expect(new Set(voters).size, 'one voters list').toBe(1);
    expect(voters[0]).toBe(kafkaNodes.map((name, i) => `${i + 1}@${hostOf(name)}:9093`).join(','));
    expect(kafkaNodes.map((name) => env(name).KAFKA_NODE_ID)).toEqual([1, 2, 3]);
    for (const name of kafkaNodes) {
      const e = env(name);
      expect(e.KAFKA_PROCESS_ROLES, name).toBe('broker,controller');
      expect(String(e.KAFKA_LISTENERS), name).toContain('CONTROLLER://0.0.0.0:9093');
      expect(String(e.KAFKA_ADVERTISED_LISTENERS), name).toContain(`CLIENTS://${hostOf(name)}:9092`);
      // One cluster id for the three storages.
      expect(e.CLUSTER_ID, name).toBe(single.services.kafka!.environment!.CLUSTER_ID);
      expect(interpolation(String(e.CLUSTER_ID))?.fallback, name).toMatch(/^[A-Za-z0-9_-]{22}$/);
    }
  });

  it('keeps every record on three brokers and acknowledges a write once two have it, the internal topics too', () => {
    for (const name of kafkaNodes) {
      expect(env(name), name).toMatchObject({
        KAFKA_DEFAULT_REPLICATION_FACTOR: 3,
        KAFKA_MIN_INSYNC_REPLICAS: 2,
        KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE: 'false',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: 3,
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: 3,
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: 2,
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: 3,
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: 2,
      });
    }
    // The project's topics: created by the topology job with replication factor 3, and min.insync.replicas 2.
    expect(env('topology').KAFKA_REPLICATION_FACTOR).toBe(3);
    expect(read('libs/messaging/src/kafka/kafka-provisioner.ts')).toContain(
      "replicationFactor >= 3 ? [{ name: 'min.insync.replicas', value: '2' }]",
    );
    // The same settings as the native cluster's brokers (infra/kafka/cluster.properties).
    const native = Object.fromEntries(
      read('infra/kafka/cluster.properties')
        .split('\n')
        .filter((line) => /^[a-z]/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    const property = (variable: string) =>
      variable
        .replace(/^KAFKA_/, '')
        .toLowerCase()
        .replaceAll('_', '.');
    for (const variable of [
      'KAFKA_DEFAULT_REPLICATION_FACTOR',
      'KAFKA_MIN_INSYNC_REPLICAS',
      'KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE',
      'KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR',
      'KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR',
      'KAFKA_TRANSACTION_STATE_LOG_MIN_ISR',
      'KAFKA_AUTO_CREATE_TOPICS_ENABLE',
      'KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS',
      'KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS',
      'KAFKA_NUM_NETWORK_THREADS',
      'KAFKA_NUM_IO_THREADS',
    ]) {
      expect(String(env('kafka-2')[variable]), variable).toBe(native[property(variable)]);
    }
  });

  it('logs in and authorizes like the single broker: SASL/SCRAM over TLS on every listener, the same principals and ACLs', () => {
    const singleEnv = single.services.kafka!.environment!;
    const security = Object.keys(singleEnv).filter((key) =>
      /SCRAM|SASL|JAAS|SSL|SECURITY_PROTOCOL|AUTHORIZER|SUPER_USERS|ALLOW_EVERYONE|ADMIN_PRINCIPAL|INTER_BROKER|CONTROLLER_LISTENER/.test(
        key,
      ),
    );
    expect(security.length).toBeGreaterThan(12);
    for (const name of kafkaNodes) {
      for (const key of security) expect(env(name)[key], `${name}.${key}`).toBe(singleEnv[key]);
      expect(app(name).volumes, name).toContain('tls-server:/etc/kafka/tls:ro');
    }
  });

  it('points every service at all three nodes of each cluster, and the topology job at all three brokers', () => {
    const rabbitmq = rabbitNodes.map((name) => `${hostOf(name)}:${amqpsPort}`).join(',');
    const kafka = kafkaNodes.map((name) => `${hostOf(name)}:9092`).join(',');
    expect(rabbitmq).toBe('rabbitmq-1:5671,rabbitmq-2:5671,rabbitmq-3:5671');
    const allowed = new Set<string>([...CONFIG_ENV, ...TRACING_ENV]);
    for (const name of SERVICES) {
      expect(env(name).RABBITMQ_CLUSTER_NODES, name).toBe(rabbitmq);
      expect(env(name).KAFKA_BROKERS, name).toBe(kafka);
      // The URL keeps the service's user, password and vhost; the node list says where to connect.
      expect(env(name).RABBITMQ_URL, name).toBe(single.services[name]!.environment!.RABBITMQ_URL);
      for (const key of Object.keys(override.services[name]!.environment ?? {})) {
        expect(allowed, `${name} does not read ${key}`).toContain(key);
      }
    }
    expect(env('topology').KAFKA_BROKERS).toBe(kafka);
  });

  it('starts the topology job and every service only once all six broker nodes are healthy', () => {
    const nodes = [...rabbitNodes, ...kafkaNodes];
    for (const name of ['topology', ...SERVICES]) {
      for (const node of nodes)
        expect(app(name).depends_on?.[node]?.condition, `${name} → ${node}`).toBe('service_healthy');
    }
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(services[dependency], `${name} depends on unknown ${dependency}`).toBeDefined();
        expect(condition, `${name} → ${dependency}`).toBe(
          ONE_SHOT.has(dependency) ? 'service_completed_successfully' : 'service_healthy',
        );
      }
    }
  });

  it('gives every long-running container a healthcheck, the six broker nodes included', () => {
    for (const [name, service] of Object.entries(services)) {
      if (ONE_SHOT.has(name)) continue;
      expect(service.healthcheck?.test, `${name} has a healthcheck`).toBeDefined();
      expect(service.healthcheck?.interval, name).toMatch(/^\d+s$/);
      expect(service.restart, name).toBe('unless-stopped');
    }
    for (const name of rabbitNodes) {
      expect(app(name).healthcheck?.test, name).toEqual([
        'CMD',
        'rabbitmq-diagnostics',
        '-q',
        'check_port_listener',
        amqpsPort,
      ]);
    }
    for (const name of kafkaNodes) expect(app(name).healthcheck, name).toEqual(single.services.kafka!.healthcheck);
  });

  it('names every node in the brokers’ certificate (each client checks the host name of the node it reaches)', () => {
    const names = String(env('tls-certs').TLS_SERVER_NAMES).split(',');
    for (const name of [...rabbitNodes, ...kafkaNodes]) {
      expect(names, name).toContain(`DNS:${hostOf(name)}`);
      expect(names, name).toContain(`DNS:${name}`);
    }
    // ... and every name of the script's default (the single-node stack's and the host's).
    const defaults = /names="\$\{TLS_SERVER_NAMES:-([^}]*)\}"/.exec(read('scripts/tls-certs.sh'))![1]!.split(',');
    expect(names).toEqual(expect.arrayContaining(defaults));
  });

  it('keeps every secret out of the file: each a required variable of .env, with no default', () => {
    const found = secretsIn(override.services);
    for (const { where, value } of found) {
      const i = interpolation(value);
      expect(i, `${where} must come from the environment`).toBeDefined();
      expect(value, where).toBe(requiredVariable(i!.name));
    }
    expect(found.map((f) => f.where)).toEqual(
      expect.arrayContaining([
        'rabbitmq-2.ERLANG_COOKIE',
        'rabbitmq-3.RABBITMQ_PASSWORDS',
        'kafka-3.SCRAM_CREDENTIALS',
      ]),
    );
    expect(found.length).toBeGreaterThan(50);
    expect(read('compose/.env.example')).toMatch(/^RABBITMQ_ERLANG_COOKIE=$/m);
  });

  it('publishes on 127.0.0.1 only, each host port movable, and each Kafka node advertises the port it is published on', () => {
    const raw = Object.entries(override.services).flatMap(([name, s]) => (s.ports ?? []).map((p) => ({ name, p })));
    expect(raw.length).toBeGreaterThan(0);
    for (const { name, p } of raw) {
      const match = /^127\.0\.0\.1:\$\{([A-Z0-9_]+_HOST_PORT):-(\d+)\}:29092$/.exec(p);
      expect(match, `${name} ${p}`).not.toBeNull();
      expect(String(override.services[name]!.environment!.KAFKA_ADVERTISED_LISTENERS)).toContain(
        `HOST://localhost:\${${match![1]}:-${match![2]}}`,
      );
    }
    const published = Object.values(services).flatMap((s) => s.ports ?? []);
    expect(published.filter((p) => !/^127\.0\.0\.1:\d+:\d+$/.test(p))).toEqual([]);
    const hostPorts = published.map((p) => p.split(':')[1]);
    expect(new Set(hostPorts).size, 'no host port twice').toBe(hostPorts.length);
  });

  it("gives each node a data volume of its own, none of the single nodes', and mounts only files that exist", () => {
    const dataOf = (name: string, path: string) =>
      (app(name).volumes ?? []).find((v) => v.endsWith(`:${path}`))?.split(':')[0];
    const data = [
      ...rabbitNodes.map((n) => dataOf(n, '/var/lib/rabbitmq')),
      ...kafkaNodes.map((n) => dataOf(n, '/var/lib/kafka/data')),
    ];
    expect(data).toEqual([
      'rabbitmq-1-data',
      'rabbitmq-2-data',
      'rabbitmq-3-data',
      'kafka-1-data',
      'kafka-2-data',
      'kafka-3-data',
    ]);
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./')) expect(existsSync(new URL(source, root)), `${name} mounts ${source}`).toBe(true);
        else expect(file.volumes ?? {}, `${name} uses volume ${source}`).toHaveProperty(source);
      }
    }
  });

  it('has stand-ins for the nodes it adds (compose/local-images/override.cluster.yml), the images node 1 gets', () => {
    const standIns = readYaml<ComposeFile>('compose/local-images/override.yml').services;
    const clusterStandIns = readYaml<ComposeFile>('compose/local-images/override.cluster.yml').services;
    const added = Object.keys(override.services).filter((name) => !single.services[name]);
    expect(Object.keys(clusterStandIns).sort()).toEqual(added.sort());
    for (const name of added) {
      const node1 = rabbitNodes.includes(name) ? 'rabbitmq' : 'kafka';
      expect(clusterStandIns[name], name).toEqual({ image: standIns[node1]!.image });
    }
  });
});
