/**
 * A RabbitMQ node failure, measured on the three-node cluster of `infra/cluster` (docs/clusters.md): publishes
 * through the project's AmqpClient (persistent, mandatory, each awaited until the broker confirms it) to a quorum
 * queue replicated on the three nodes.
 *
 *   1. `--before` (1,000) confirmed publishes through a node that does not lead the queue;
 *   2. the leader node stopped (`infra/cluster stop-node rabbitmq N`): `--after` (500) more through the same node,
 *      timing the first confirm after the stop (a new leader is elected among the two left);
 *   3. a second node stopped while publishing goes on (20 publishers, `--pause-ms` between publishes), leaving the
 *      publisher's node alone; once it is stopped, `--minority` (20) publishes more, each given
 *      `--minority-timeout-ms`: none may be confirmed (no majority), and each one's fate is recorded;
 *   4. both nodes started again (`infra/cluster up`), everything read back through the third node.
 *
 * The report counts what was confirmed, what was read, duplicates, and the publishes never confirmed that were
 * delivered anyway: unconfirmed is not lost, so a publisher that retries makes duplicates the consumer must absorb.
 *
 *   infra/cluster up && npx tsc -b && flock -o /tmp/am-heavy-2.lock npm run experiment:cluster-failover
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import amqp from 'amqplib';
import { AmqpClient, machineSecret } from '@am/messaging';
import { parseArgs } from './lib/args.js';
import { epochMs, progress, sleep } from './lib/clock.js';
import { writeJson } from './lib/stats.js';
import { repoRoot, resultsDir } from './lib/world.js';

const options = parseArgs({
  name: 'cluster-failover',
  before: 1_000,
  after: 500,
  minority: 20,
  minorityTimeoutMs: 5_000,
  /** Each phase-3 publisher's pause between publishes (the second node takes seconds to stop). */
  pauseMs: 50,
  portBase: 5700,
  managementPortBase: 15700,
});

const started = epochMs();
const log = (message: string) => progress(started, message);
const cluster = path.join(repoRoot, 'infra', 'cluster');
const admin = { user: 'messaging-admin', password: machineSecret('rabbitmq-messaging-admin') };
const queue = `failover-probe-${randomUUID().slice(0, 8)}`;
const nodes = [1, 2, 3] as const;
const nodeName = (n: number) => `rmq${n}@localhost`;
const amqpUrl = (n: number) =>
  `amqp://${encodeURIComponent(admin.user)}:${encodeURIComponent(admin.password)}@127.0.0.1:${options.portBase + n}/%2F`;

async function management(n: number, method: string, apiPath: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${options.managementPortBase + n}/api${apiPath}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${admin.user}:${admin.password}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`management ${method} ${apiPath} on rmq${n}: ${response.status}`);
  const text = await response.text();
  return text ? (JSON.parse(text) as unknown) : undefined;
}

function infra(...args: string[]): string {
  return execFileSync(cluster, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

type Outcome = 'confirmed' | 'timeout' | 'refused' | 'unavailable';
interface Phase {
  published: number;
  outcomes: Record<Outcome, number>;
  /** Milliseconds from the phase's start to its first confirm. */
  firstConfirmMs: number | null;
  durationMs: number;
}

const unconfirmedIds = new Set<string>();
const confirmedIds = new Set<string>();

/** Publishes while `more(attempted)` says so, `concurrency` at a time, and records each publish's outcome. */
async function publishPhase(
  client: AmqpClient,
  more: (attempted: number) => boolean,
  concurrency: number,
  pauseMs = 0,
): Promise<Phase> {
  const phaseStart = epochMs();
  const outcomes: Record<Outcome, number> = { confirmed: 0, timeout: 0, refused: 0, unavailable: 0 };
  let firstConfirmMs: number | null = null;
  let next = 0;
  const worker = async () => {
    while (more(next)) {
      next += 1;
      const messageId = randomUUID();
      const envelope = {
        messageId,
        type: 'failover-probe',
        version: 1,
        occurredAt: new Date().toISOString(),
        correlationId: messageId,
        causationId: null,
        data: {},
      };
      try {
        await client.publish('', queue, envelope);
        outcomes.confirmed += 1;
        confirmedIds.add(messageId);
        firstConfirmMs ??= epochMs() - phaseStart;
      } catch (error) {
        unconfirmedIds.add(messageId);
        const message = (error as Error).message;
        if (message.includes('no confirm within')) outcomes.timeout += 1;
        else if (message.includes('refused')) outcomes.refused += 1;
        else outcomes.unavailable += 1;
      }
      if (pauseMs > 0) await sleep(pauseMs);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { published: next, outcomes, firstConfirmMs, durationMs: epochMs() - phaseStart };
}

interface QueueInfo {
  leader?: string;
  node?: string;
  members?: string[];
  online?: string[];
  messages?: number;
}

// The queue, on the cluster, and who leads it.
const setup = await amqp.connect(amqpUrl(1));
const setupChannel = await setup.createChannel();
await setupChannel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
await setup.close();
const info = (await management(1, 'GET', `/queues/%2F/${queue}`)) as QueueInfo;
const leader = Number((info.leader ?? info.node ?? '').replace(/^rmq(\d)@.*/, '$1'));
if (!nodes.includes(leader as 1)) throw new Error(`no leader found for ${queue}: ${JSON.stringify(info)}`);
const [publisherNode, readerNode] = nodes.filter((n) => n !== leader) as [number, number];
log(`queue ${queue}: leader ${nodeName(leader)}, members ${info.members?.join(' ')}`);
log(`publishing through ${nodeName(publisherNode)}, reading through ${nodeName(readerNode)}`);

const client = new AmqpClient({
  url: amqpUrl(publisherNode),
  connectionName: 'cluster-failover-probe',
  confirmTimeoutMs: options.minorityTimeoutMs,
  logger: {
    info: () => undefined,
    warn: (fields, message) => log(`client: ${message ?? ''} ${JSON.stringify(fields)}`),
    error: (fields, message) => log(`client: ${message ?? ''} ${JSON.stringify(fields)}`),
  },
});
await client.connect();

const before = await publishPhase(client, (n) => n < options.before, 20);
log(`phase 1: ${before.outcomes.confirmed}/${before.published} confirmed in ${before.durationMs} ms`);

let stopMs = epochMs();
log(infra('stop-node', 'rabbitmq', String(leader)));
stopMs = epochMs() - stopMs;
const after = await publishPhase(client, (n) => n < options.after, 20);
const newLeader = ((await management(publisherNode, 'GET', `/queues/%2F/${queue}`)) as QueueInfo).leader;
log(
  `phase 2 (leader stopped in ${stopMs} ms): ${after.outcomes.confirmed}/${after.published} confirmed, first after ` +
    `${after.firstConfirmMs} ms; new leader ${newLeader}`,
);

// Publishing goes on while the second node stops, so some publishes are in flight when the majority is lost.
let stopped = false;
let attemptedAtStop: number | undefined;
const stopping = promisify(execFile)(cluster, ['stop-node', 'rabbitmq', String(readerNode)], { encoding: 'utf8' }).then(
  ({ stdout }) => {
    stopped = true;
    log(stdout.trim());
  },
);
const minority = await publishPhase(
  client,
  (n) => {
    if (!stopped) return true;
    attemptedAtStop ??= n;
    return n < attemptedAtStop + options.minority;
  },
  20,
  options.pauseMs,
);
await stopping;
log(
  `phase 3 (second node stopped while publishing): ${minority.published} published, ${JSON.stringify(minority.outcomes)}`,
);
await client.close().catch(() => undefined);

const restartStart = epochMs();
infra('up');
const restartMs = epochMs() - restartStart;
log(`both nodes started again and rejoined in ${restartMs} ms (infra/cluster up)`);

// Everything read back through the third node.
const reader = await amqp.connect(amqpUrl(readerNode));
const channel = await reader.createChannel();
await channel.prefetch(500);
const seen = new Map<string, number>();
let lastDelivery = epochMs();
await channel.consume(queue, (message) => {
  if (!message) return;
  const id = String(message.properties.messageId);
  seen.set(id, (seen.get(id) ?? 0) + 1);
  lastDelivery = epochMs();
  channel.ack(message);
});
while (epochMs() - lastDelivery < 3_000) await sleep(250);
await reader.close();
await management(readerNode, 'DELETE', `/queues/%2F/${queue}`);

const delivered = [...seen.values()].reduce((a, b) => a + b, 0);
const lostConfirmed = [...confirmedIds].filter((id) => !seen.has(id)).length;
const unconfirmedDelivered = [...unconfirmedIds].filter((id) => seen.has(id)).length;
const duplicates = delivered - seen.size;
const report = {
  queue,
  leader: nodeName(leader),
  publisher: nodeName(publisherNode),
  reader: nodeName(readerNode),
  phases: { before, afterLeaderStopped: { ...after, newLeader, stopMs }, minority },
  restartMs,
  confirmed: confirmedIds.size,
  unconfirmed: unconfirmedIds.size,
  delivered,
  distinctDelivered: seen.size,
  duplicates,
  lostConfirmed,
  unconfirmedDelivered,
  finishedAt: new Date().toISOString(),
};
writeJson(path.join(resultsDir, `${options.name}.json`), report);
log(
  `read back ${delivered} (${seen.size} distinct): confirmed ${confirmedIds.size}, lost confirmed ${lostConfirmed}, ` +
    `unconfirmed ${unconfirmedIds.size} of which delivered anyway ${unconfirmedDelivered}, duplicates ${duplicates}`,
);
if (lostConfirmed > 0) process.exitCode = 1;
