import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// What infra/cluster writes for each node (infra/cluster-lib.sh's render functions), read without starting anything.
const root = path.resolve(import.meta.dirname, '..');
const secrets = mkdtempSync(path.join(tmpdir(), 'cluster-config-secrets-'));
afterAll(() => rmSync(secrets, { recursive: true, force: true }));

function render(command: string): string {
  return execFileSync(
    'bash',
    ['-c', `set -euo pipefail; source infra/lib.sh; source infra/cluster-lib.sh; ${command}`],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, MESSAGING_SECRETS_DIR: secrets },
    },
  );
}

/** `key=value` lines (properties) or `key = value` lines (rabbitmq.conf) as a map; comments left out. */
function settings(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.includes('=')) continue;
    const at = line.indexOf('=');
    map.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  return map;
}

const nodes = [1, 2, 3];
const kafka = nodes.map((n) => settings(render(`kafka_node_render ${n}`)));
const rabbit = nodes.map((n) => settings(render(`rmq_conf ${n}`)));
const rabbitEnv = nodes.map((n) => settings(render(`rmq_env ${n}`)));

describe('infra/cluster: the Kafka brokers', () => {
  it('are three KRaft nodes (broker and controller) of one static quorum, each with its own ports and log directory', () => {
    expect(kafka.map((k) => k.get('node.id'))).toEqual(['1', '2', '3']);
    expect(kafka.map((k) => k.get('process.roles'))).toEqual(Array(3).fill('broker,controller'));
    const voters = '1@127.0.0.1:9211,2@127.0.0.1:9212,3@127.0.0.1:9213';
    expect(kafka.map((k) => k.get('controller.quorum.voters'))).toEqual(Array(3).fill(voters));
    expect(kafka[1]?.get('listeners')).toBe('CLIENTS://127.0.0.1:9202,CONTROLLER://127.0.0.1:9212');
    const dirs = kafka.map((k) => k.get('log.dirs'));
    expect(new Set(dirs).size).toBe(3);
    for (const dir of dirs) expect(dir).toMatch(/\/\.cache\/cluster\/kafka\/kafka[123]\/data$/);
  });

  it('replicate every record three times, need two in sync for a write, and never elect an out-of-sync replica', () => {
    for (const k of kafka) {
      expect(k.get('default.replication.factor')).toBe('3');
      expect(k.get('min.insync.replicas')).toBe('2');
      expect(k.get('offsets.topic.replication.factor')).toBe('3');
      expect(k.get('transaction.state.log.replication.factor')).toBe('3');
      expect(k.get('transaction.state.log.min.isr')).toBe('2');
      expect(k.get('unclean.leader.election.enable')).toBe('false');
    }
  });

  it('keep the single broker’s logins and authorizer, with every placeholder filled in', () => {
    for (const n of nodes) expect(render(`kafka_node_render ${n}`)).not.toMatch(/@[A-Z_]+@/);
    expect(kafka[0]?.get('authorizer.class.name')).toBe('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect(kafka[0]?.get('allow.everyone.if.no.acl.found')).toBe('false');
    expect(kafka[0]?.get('listener.security.protocol.map')).toBe('CONTROLLER:SASL_PLAINTEXT,CLIENTS:SASL_PLAINTEXT');
  });
});

describe('infra/cluster: the RabbitMQ nodes', () => {
  it('are rmq1..3@localhost on their own AMQP, distribution and management ports, on loopback', () => {
    expect(rabbitEnv.map((e) => e.get('RABBITMQ_NODENAME'))).toEqual(nodes.map((n) => `rmq${n}@localhost`));
    expect(rabbitEnv.map((e) => e.get('RABBITMQ_NODE_PORT'))).toEqual(['5701', '5702', '5703']);
    expect(rabbitEnv.map((e) => e.get('RABBITMQ_DIST_PORT'))).toEqual(['25701', '25702', '25703']);
    expect(rabbit.map((r) => r.get('listeners.tcp.1'))).toEqual(nodes.map((n) => `127.0.0.1:${5700 + n}`));
    expect(rabbit.map((r) => r.get('management.tcp.port'))).toEqual(['15701', '15702', '15703']);
    expect(rabbit.map((r) => r.get('management.tcp.ip'))).toEqual(Array(3).fill('127.0.0.1'));
  });

  it('read none of the machine’s /etc/rabbitmq (it pins rabbit@localhost, port 5672 and its conf.d)', () => {
    for (const env of rabbitEnv) {
      for (const key of [
        'RABBITMQ_CONF_ENV_FILE',
        'RABBITMQ_CONFIG_FILE',
        'RABBITMQ_CONFIG_FILES',
        'RABBITMQ_ENABLED_PLUGINS_FILE',
      ]) {
        expect(env.get(key), key).toMatch(/\/\.cache\/cluster\/rabbitmq\/rmq[123]\//);
      }
    }
    expect(new Set(rabbitEnv.map((e) => e.get('RABBITMQ_MNESIA_BASE'))).size).toBe(3);
    expect(new Set(rabbitEnv.map((e) => e.get('RABBITMQ_LOG_BASE'))).size).toBe(3);
  });

  it('pause a node cut off from the majority, and spread the quorum queues’ leaders', () => {
    for (const r of rabbit) {
      expect(r.get('cluster_partition_handling')).toBe('pause_minority');
      expect(r.get('queue_leader_locator')).toBe('balanced');
    }
  });
});

describe('infra/cluster: ports', () => {
  it('are all distinct and leave the single-node infrastructure’s alone', () => {
    const ports = [
      ...rabbitEnv.flatMap((e) => [e.get('RABBITMQ_NODE_PORT'), e.get('RABBITMQ_DIST_PORT')]),
      ...rabbit.map((r) => r.get('management.tcp.port')),
      ...kafka.flatMap((k) => (k.get('listeners') ?? '').match(/:\d+/g) ?? []).map((p) => p.slice(1)),
    ].map(Number);
    expect(ports).toHaveLength(3 * 3 + 3 * 2);
    expect(new Set(ports).size).toBe(ports.length);
    for (const taken of [5671, 5672, 15672, 25672, 4369, 9092, 9093, 9094]) expect(ports).not.toContain(taken);
  });

  it('are what a client of the cluster is told to use', () => {
    const env = settings(render('cluster_client_env'));
    expect(env.get('KAFKA_BROKERS')).toBe('127.0.0.1:9201,127.0.0.1:9202,127.0.0.1:9203');
    expect(env.get('KAFKA_REPLICATION_FACTOR')).toBe('3');
    expect(env.get('RABBITMQ_QUEUE_TYPE')).toBe('quorum');
    expect(env.get('RABBITMQ_MANAGEMENT_URL')).toBe('http://127.0.0.1:15701');
  });
});
