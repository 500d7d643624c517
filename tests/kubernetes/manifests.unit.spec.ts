import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import {
  Kafka,
  KafkaNodePool,
  KafkaTopic,
  KafkaUser,
} from '@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2';
import { ConfigMap, Namespace, Service } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { CONSOLE_USER, DEFAULT_PORTS, SERVICES, kafkaAcls, topics } from '@am/messaging';
import { CONSOLE_PORT } from '../../services/console/src/console-config.js';

// The Kubernetes manifests (kubernetes/), rendered offline with `kubectl kustomize` and validated against the
// Kubernetes, KEDA and Strimzi schemas (npm kubernetes-models), then held to the project's rules. Not applied to a real
// cluster here: see docs/kubernetes.md.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

function render(overlay: string): K8sObject[] {
  const text = execFileSync(
    'kubectl',
    ['kustomize', '--load-restrictor=LoadRestrictionsNone', `${ROOT}kubernetes/overlays/${overlay}`],
    { encoding: 'utf8' },
  );
  return parseAllDocuments(text).map((d) => d.toJSON() as K8sObject);
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
  'kafka.strimzi.io/v1beta2/Kafka': Kafka,
  'kafka.strimzi.io/v1beta2/KafkaNodePool': KafkaNodePool,
  'kafka.strimzi.io/v1beta2/KafkaTopic': KafkaTopic,
  'kafka.strimzi.io/v1beta2/KafkaUser': KafkaUser,
};
/** Kinds without a published schema model: checked by the project's rules below only. */
const UNMODELLED = new Set(['rabbitmq.com/v1beta1/RabbitmqCluster']);

const podSpecs = (objects: K8sObject[]) =>
  objects
    .filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind))
    .map((o) => ({
      o,
      pod: (o.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec,
    }));

describe.each(['single', 'ha'])('the %s overlay', (overlay) => {
  const objects = render(overlay);

  it('renders objects that each validate against their schema', () => {
    const errors: string[] = [];
    for (const o of objects) {
      const key = `${o.apiVersion}/${o.kind}`;
      if (UNMODELLED.has(key)) continue;
      const Model = MODELS[key];
      if (!Model) {
        errors.push(`${key} ${o.metadata.name}: no validator`);
        continue;
      }
      try {
        new Model(o as never).validate();
      } catch (error) {
        errors.push(`${key} ${o.metadata.name}: ${(error as Error).message.slice(0, 300)}`);
      }
    }
    expect(errors).toEqual([]);
  });

  it('runs the six services, each with readiness and liveness probes, resources, and a disruption budget', () => {
    const deployments = objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name);
    expect(deployments).toEqual(expect.arrayContaining([...SERVICES]));
    for (const { o, pod } of podSpecs(objects)) {
      for (const c of pod.containers) {
        expect(c.resources, `${o.metadata.name} resources`).toBeDefined();
        if (o.kind !== 'Job') {
          expect(c.readinessProbe, `${o.metadata.name} readiness`).toBeDefined();
          expect(c.livenessProbe, `${o.metadata.name} liveness`).toBeDefined();
        }
      }
    }
    const budgets = new Set(objects.filter((o) => o.kind === 'PodDisruptionBudget').map((o) => o.metadata.name));
    for (const s of SERVICES) expect(budgets.has(s), `${s} budget`).toBe(true);
  });

  it('holds no secret value: no Secret object, and every password comes from a secretKeyRef', () => {
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    for (const { o, pod } of podSpecs(objects)) {
      for (const c of pod.containers) {
        for (const e of (c.env as { name: string; value?: string }[] | undefined) ?? []) {
          // A password variable comes from a secretKeyRef, or lists `user=$(VARIABLE)` references to such variables.
          const references = /^(\S+=\$\([A-Z0-9_]+\)\s*)+$/.test(e.value ?? '');
          if (/PASSWORD|SECRET|TOKEN/.test(e.name) && !references) {
            expect(e.value, `${o.metadata.name} ${e.name}`).toBeUndefined();
          }
          expect(e.value ?? '', `${o.metadata.name} ${e.name}`).not.toMatch(/:\/\/[^:/]+:[^$@]+@/);
        }
      }
    }
  });

  it('denies ingress by default and lets the brokers take connections only from the project', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const deny = policies.find((p) => p.metadata.name === 'default-deny-ingress');
    expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    expect(policies.map((p) => p.metadata.name).sort()).toEqual(
      ['brokers-from-the-project', 'default-deny-ingress', 'services-http'].sort(),
    );
  });

  it('is what kubernetes/generate.mjs makes of the code today (services, topics, Kafka users)', async () => {
    const { renderServices, renderTopics, renderUsers } = (await import(`${ROOT}kubernetes/generate.mjs`)) as {
      renderServices: () => string;
      renderTopics: () => string;
      renderUsers: () => { users: string; passwords: string };
    };
    const { users, passwords } = renderUsers();
    const stale = 'is out of date: run `node kubernetes/generate.mjs` and commit it';
    expect(
      readFileSync(`${ROOT}kubernetes/base/services.yaml`, 'utf8') === renderServices(),
      `services.yaml ${stale}`,
    ).toBe(true);
    expect(
      readFileSync(`${ROOT}kubernetes/overlays/ha/topics.yaml`, 'utf8') === renderTopics(),
      `topics.yaml ${stale}`,
    ).toBe(true);
    expect(readFileSync(`${ROOT}kubernetes/overlays/ha/users.yaml`, 'utf8') === users, `users.yaml ${stale}`).toBe(
      true,
    );
    expect(
      readFileSync(`${ROOT}kubernetes/overlays/ha/user-passwords.yaml`, 'utf8') === passwords,
      `user-passwords.yaml ${stale}`,
    ).toBe(true);
  });

  it('runs the console beside the services: their Service names and ports, its RabbitMQ password from a Secret', () => {
    type Env = { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } };
    const found = podSpecs(objects).find(({ o }) => o.kind === 'Deployment' && o.metadata.name === 'console')!;
    expect(found, 'a console Deployment').toBeDefined();
    const container = found.pod.containers[0]! as { image: string; env: Env[]; ports: { containerPort: number }[] };
    expect(container.image).toBe('async-messaging/console:dev');
    expect(container.ports).toEqual([{ name: 'http', containerPort: CONSOLE_PORT }]);
    const env = Object.fromEntries(container.env.map((e) => [e.name, e]));
    expect(env.PORT?.value).toBe(String(CONSOLE_PORT));
    const serviceObjects = objects.filter((o) => o.kind === 'Service');
    for (const s of SERVICES) {
      expect(env[`${s.toUpperCase()}_URL`]?.value, s).toBe(`http://${s}:${DEFAULT_PORTS[s]}`);
      const target = serviceObjects.find((o) => o.metadata.name === s)!;
      expect((target.spec as { ports: { port: number }[] }).ports[0]!.port, s).toBe(DEFAULT_PORTS[s]);
    }
    expect(env.RABBITMQ_MANAGEMENT_URL?.value).toBe('http://rabbitmq:15672');
    expect(env.CONSOLE_RABBITMQ_PASSWORD?.valueFrom?.secretKeyRef).toEqual({
      name: 'async-messaging-credentials',
      key: 'CONSOLE_RABBITMQ_PASSWORD',
    });
    // No database, no broker connection, no Kafka login; the public key only.
    expect(
      Object.keys(env).filter((k) => /^(DATABASE|DB_|KAFKA_(USERNAME|PASSWORD)|RABBITMQ_(URL|PASSWORD)$)/.test(k)),
    ).toEqual([]);
    const volumes = (found.pod as unknown as { volumes: { secret: { items: { key: string }[] } }[] }).volumes;
    expect(volumes.flatMap((v) => v.secret.items.map((i) => i.key))).toEqual(['auth-verify.pem']);
    // Reachable: a Service on its port, and the policy that opens the HTTP ports selects it.
    const consoleService = serviceObjects.find((o) => o.metadata.name === 'console')!;
    expect((consoleService.spec as { ports: { port: number }[] }).ports[0]!.port).toBe(CONSOLE_PORT);
    const http = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'services-http')!;
    const selector = (http.spec as { podSelector: { matchExpressions: { key: string; values: string[] }[] } })
      .podSelector.matchExpressions[0]!;
    const labels = (
      objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'console')!.spec as {
        template: { metadata: { labels: Record<string, string> } };
      }
    ).template.metadata.labels;
    expect(selector.values).toContain(labels[selector.key]);
  });

  it('gives the topology job every RabbitMQ password it sets (each service and the console), from the Secret', () => {
    const job = podSpecs(objects).find(({ o }) => o.kind === 'Job' && o.metadata.name === 'topology')!;
    const env = (job.pod.containers[0]!.env ?? []) as { name: string; valueFrom?: { secretKeyRef: { key: string } } }[];
    for (const name of [...SERVICES.map((s) => `${s.toUpperCase()}_RABBITMQ_PASSWORD`), 'CONSOLE_RABBITMQ_PASSWORD']) {
      expect(env.find((e) => e.name === name)?.valueFrom?.secretKeyRef.key, name).toBe(name);
    }
  });

  it('gives every service its own Kafka principal, its password from a Secret', () => {
    for (const s of SERVICES) {
      const deployment = podSpecs(objects).find(({ o }) => o.kind === 'Deployment' && o.metadata.name === s)!;
      const env = (deployment.pod.containers[0]!.env ?? []) as {
        name: string;
        value?: string;
        valueFrom?: { secretKeyRef: { name: string; key: string } };
      }[];
      expect(env.find((e) => e.name === 'KAFKA_USERNAME')?.value, s).toBe(s);
      expect(env.find((e) => e.name === 'KAFKA_PASSWORD')?.valueFrom?.secretKeyRef, s).toBeDefined();
    }
  });
});

describe('the single overlay: one Kafka broker that authenticates and authorizes', () => {
  const objects = render('single');

  it('takes SASL on every listener, denies what no ACL allows, and knows every principal from its first start', () => {
    const kafka = podSpecs(objects).find(({ o }) => o.kind === 'StatefulSet' && o.metadata.name === 'kafka')!;
    const container = kafka.pod.containers[0]! as { command: string[]; env: { name: string; value?: string }[] };
    const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
    expect(container.command).toEqual(['bash', '/opt/async-messaging/start-kafka.sh']);
    const protocols = String(env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP)
      .split(',')
      .map((entry) => entry.split(':')[1]);
    expect(new Set(protocols)).toEqual(new Set(['SASL_PLAINTEXT']));
    expect(env.KAFKA_AUTHORIZER_CLASS_NAME).toBe('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect(env.KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND).toBe('false');
    const principals = String(env.SCRAM_CREDENTIALS)
      .split(' ')
      .map((c) => c.slice(0, c.indexOf('=')));
    expect(principals.sort()).toEqual(['messaging-admin', ...SERVICES].sort());
  });
});

describe('the single overlay: RabbitMQ loads the definitions of the compose stack', () => {
  const objects = render('single');

  it('has a password for every user of compose/rabbitmq/definitions.json (its entrypoint refuses to start otherwise)', () => {
    const rabbit = podSpecs(objects).find(({ o }) => o.kind === 'StatefulSet' && o.metadata.name === 'rabbitmq')!;
    const env = (rabbit.pod.containers[0]! as { env: { name: string; value?: string }[] }).env;
    const listed = String(env.find((e) => e.name === 'RABBITMQ_PASSWORDS')?.value)
      .split(' ')
      .map((entry) => entry.slice(0, entry.indexOf('=')));
    const definitions = JSON.parse(readFileSync(`${ROOT}compose/rabbitmq/definitions.json`, 'utf8')) as {
      users: { name: string }[];
    };
    expect(listed.sort()).toEqual(definitions.users.map((u) => u.name).sort());
    expect(listed).toContain(CONSOLE_USER);
    // Each `$(NAME)` it refers to is a variable of the container, from the Secret.
    for (const entry of String(env.find((e) => e.name === 'RABBITMQ_PASSWORDS')?.value).split(' ')) {
      const variable = /=\$\(([A-Z0-9_]+)\)$/.exec(entry)?.[1];
      expect(
        env.some((e) => e.name === variable),
        entry,
      ).toBe(true);
    }
  });
});

describe('the ha overlay: Kafka users', () => {
  const objects = render('ha');

  it('authenticates every client (SCRAM-SHA-512) and authorizes with the ACLs of the topology', () => {
    const spec = objects.find((o) => o.kind === 'Kafka')!.spec as {
      kafka: {
        listeners: { authentication?: { type: string } }[];
        authorization: { type: string; superUsers: string[] };
      };
    };
    expect(spec.kafka.listeners.map((l) => l.authentication?.type)).toEqual(
      spec.kafka.listeners.map(() => 'scram-sha-512'),
    );
    expect(spec.kafka.authorization).toEqual({ type: 'simple', superUsers: ['messaging-admin'] });
    const granted = objects
      .filter((o) => o.kind === 'KafkaUser')
      .flatMap((u) =>
        (
          (u.spec as { authorization?: { acls: { resource: { name: string }; operations: string[] }[] } }).authorization
            ?.acls ?? []
        ).map((a) => `${u.metadata.name} ${a.operations.join()} ${a.resource.name}`),
      );
    expect(granted.sort()).toEqual(
      kafkaAcls()
        .map((a) => `${a.principal} ${a.operation[0]!.toUpperCase()}${a.operation.slice(1)} ${a.name}`)
        .sort(),
    );
  });
});

describe('the ha overlay: what survives a node', () => {
  const objects = render('ha');
  const find = (kind: string) => objects.filter((o) => o.kind === kind);

  it('runs odd numbers of broker nodes (a quorum survives the loss of one)', () => {
    const rabbit = find('RabbitmqCluster')[0]!;
    expect(rabbit.apiVersion).toBe('rabbitmq.com/v1beta1');
    expect((rabbit.spec as { replicas: number }).replicas).toBe(3);
    expect(String((rabbit.spec as { rabbitmq: { additionalConfig: string } }).rabbitmq.additionalConfig)).toContain(
      'default_queue_type = quorum',
    );
    const pools = find('KafkaNodePool');
    expect(pools.map((p) => (p.spec as { replicas: number }).replicas % 2)).toEqual([1]);
  });

  it('replicates every topic 3 times with 2 in sync for a write, the cluster defaults too', () => {
    const config = (find('Kafka')[0]!.spec as { kafka: { config: Record<string, number | boolean> } }).kafka.config;
    expect(config).toMatchObject({
      'default.replication.factor': 3,
      'min.insync.replicas': 2,
      'offsets.topic.replication.factor': 3,
      'transaction.state.log.replication.factor': 3,
      'transaction.state.log.min.isr': 2,
    });
    const declared = find('KafkaTopic').map(
      (t) => t.spec as { topicName: string; replicas: number; config: Record<string, number> },
    );
    expect(declared.map((t) => t.topicName).sort()).toEqual(topics.map((t) => t.name).sort());
    for (const t of declared) {
      expect(t.replicas, t.topicName).toBe(3);
      expect(t.config['min.insync.replicas'], t.topicName).toBe(2);
    }
  });

  it('never scales a consumer group beyond the partitions of its topic', () => {
    for (const scaled of find('ScaledObject')) {
      const spec = scaled.spec as {
        maxReplicaCount: number;
        triggers: { type: string; metadata: { topic?: string } }[];
      };
      for (const trigger of spec.triggers.filter((t) => t.type === 'kafka')) {
        const topic = topics.find((t) => t.name === trigger.metadata.topic);
        expect(topic, trigger.metadata.topic).toBeDefined();
        expect(spec.maxReplicaCount, scaled.metadata.name).toBeLessThanOrEqual(topic!.partitions);
      }
    }
  });
});
