/** Runs the brokers' own performance tools (RabbitMQ PerfTest, Kafka's kafka-tools classes) and parses their output. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const PERFTEST_VERSION = '2.22.1';
export const KAFKA_VERSION = '4.1.1';

export interface ToolRun {
  stdout: string;
  stderr: string;
  code: number | null;
  seconds: number;
}

export function toolPaths(root: string) {
  return {
    perfTest: path.join(root, '.cache', 'perf-test', PERFTEST_VERSION),
    kafkaLibs: path.join(root, '.cache', 'kafka', KAFKA_VERSION, 'libs'),
    kafkaLog4j: path.join(root, 'infra', 'kafka', 'tools-log4j2.properties'),
  };
}

/**
 * A client properties file for Kafka's tools that logs in as `credentials` (SASL/SCRAM), mode 0600 in a private
 * temporary directory: the broker refuses unauthenticated clients.
 */
export function kafkaClientConfig(credentials: { username: string; password: string }): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'bench-kafka-')), 'client.properties');
  const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${credentials.username}" password="${credentials.password}";`;
  writeFileSync(
    file,
    ['security.protocol=SASL_PLAINTEXT', 'sasl.mechanism=SCRAM-SHA-256', `sasl.jaas.config=${jaas}`, ''].join('\n'),
    { mode: 0o600 },
  );
  return file;
}

export function perfTestAvailable(root: string): boolean {
  const dir = toolPaths(root).perfTest;
  return existsSync(dir) && readdirSync(dir).some((f) => f.startsWith('perf-test-'));
}

/** Runs a command, echoing its lines with a prefix (progress), and resolves with its output. */
export function runTool(command: string, args: string[], label: string, timeoutMs: number): Promise<ToolRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      for (const line of chunk.toString().split('\n'))
        if (line.trim()) process.stdout.write(`    [${label}] ${line}\n`);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code, seconds: (performance.now() - started) / 1000 });
    });
  });
}

export interface PerfTestResult {
  sentPerSecond: number;
  receivedPerSecond: number;
  /** Publish-to-consume latency, milliseconds. */
  consumerLatencyMs: { p50: number; p99: number };
  confirmLatencyMs?: { p50: number; p99: number };
}

export async function perfTest(root: string, uri: string, args: string[], label: string): Promise<PerfTestResult> {
  const { perfTest: dir } = toolPaths(root);
  const run = await runTool(
    'java',
    ['-Xmx512m', '-cp', `${dir}/*`, 'com.rabbitmq.perf.PerfTest', '-h', uri, '-mp', 'percentiles=0.5,0.99', ...args],
    label,
    300_000,
  );
  const out = run.stdout;
  const sent = /sending rate avg: (\d+) msg\/s/.exec(out);
  const received = /receiving rate avg: (\d+) msg\/s/.exec(out);
  const latency = (kind: string) => {
    const m = new RegExp(`${kind} latency min/median/75th/95th/99th (\\d+)/(\\d+)/(\\d+)/(\\d+)/(\\d+) µs`).exec(out);
    return m ? { p50: Number(m[2]) / 1000, p99: Number(m[5]) / 1000 } : undefined;
  };
  if (!sent && !received)
    throw new Error(`PerfTest printed no summary (exit ${run.code}):\n${run.stderr.slice(-2000)}`);
  return {
    sentPerSecond: Number(sent?.[1] ?? 0),
    receivedPerSecond: Number(received?.[1] ?? 0),
    consumerLatencyMs: latency('consumer') ?? { p50: Number.NaN, p99: Number.NaN },
    confirmLatencyMs: latency('confirm'),
  };
}

function kafkaTool(root: string, className: string, args: string[], label: string, timeoutMs = 300_000) {
  const { kafkaLibs, kafkaLog4j } = toolPaths(root);
  return runTool(
    'java',
    ['-Xmx512m', `-Dlog4j2.configurationFile=${kafkaLog4j}`, '-cp', `${kafkaLibs}/*`, className, ...args],
    label,
    timeoutMs,
  );
}

export interface ProducerPerfResult {
  records: number;
  recordsPerSecond: number;
  avgLatencyMs: number;
  p50Ms: number;
  p99Ms: number;
}

export async function kafkaProducerPerf(
  root: string,
  bootstrap: string,
  clientConfig: string,
  topic: string,
  records: number,
  recordSize: number,
): Promise<ProducerPerfResult> {
  const run = await kafkaTool(
    root,
    'org.apache.kafka.tools.ProducerPerformance',
    [
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--record-size',
      String(recordSize),
      '--throughput',
      '-1',
      '--producer.config',
      clientConfig,
      '--producer-props',
      `bootstrap.servers=${bootstrap}`,
      'acks=all',
    ],
    'kafka-producer-perf',
  );
  const m =
    /(\d+) records sent, ([\d.]+) records\/sec \([\d.]+ MB\/sec\), ([\d.]+) ms avg latency, [\d.]+ ms max latency, (\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th/.exec(
      run.stdout,
    );
  if (!m) throw new Error(`ProducerPerformance printed no summary (exit ${run.code}):\n${run.stderr.slice(-2000)}`);
  return {
    records: Number(m[1]),
    recordsPerSecond: Number(m[2]),
    avgLatencyMs: Number(m[3]),
    p50Ms: Number(m[4]),
    p99Ms: Number(m[5]),
  };
}

export interface ConsumerPerfResult {
  messages: number;
  /** Including the group join (rebalance) time. */
  messagesPerSecond: number;
  /** Fetching only, without the group join: the tool's own steady-state figure. */
  fetchMessagesPerSecond: number;
  rebalanceMs: number;
}

export async function kafkaConsumerPerf(
  root: string,
  bootstrap: string,
  clientConfig: string,
  topic: string,
  messages: number,
  group: string,
): Promise<ConsumerPerfResult> {
  const run = await kafkaTool(
    root,
    'org.apache.kafka.tools.ConsumerPerformance',
    [
      '--bootstrap-server',
      bootstrap,
      '--consumer.config',
      clientConfig,
      '--topic',
      topic,
      '--messages',
      String(messages),
      '--group',
      group,
      '--timeout',
      '60000',
    ],
    'kafka-consumer-perf',
  );
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms,
  // fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const line = run.stdout
    .split('\n')
    .map((l) => l.split(',').map((f) => f.trim()))
    .find((f) => f.length >= 10 && /^\d/.test(f[2] ?? ''));
  if (!line) throw new Error(`ConsumerPerformance printed no summary (exit ${run.code}):\n${run.stderr.slice(-2000)}`);
  return {
    messages: Number(line[4]),
    messagesPerSecond: Number(line[5]),
    rebalanceMs: Number(line[6]),
    fetchMessagesPerSecond: Number(line[9]),
  };
}

export interface EndToEndResult {
  messages: number;
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
}

export async function kafkaEndToEnd(
  root: string,
  bootstrap: string,
  clientConfig: string,
  topic: string,
  messages: number,
  size: number,
): Promise<EndToEndResult> {
  const run = await kafkaTool(
    root,
    'org.apache.kafka.tools.EndToEndLatency',
    [bootstrap, topic, String(messages), 'all', String(size), clientConfig],
    'kafka-e2e-latency',
  );
  const avg = /Avg latency: ([\d.]+) ms/.exec(run.stdout);
  const pct = /Percentiles: 50th = ([\d.]+), 99th = ([\d.]+)/.exec(run.stdout);
  if (!avg || !pct)
    throw new Error(`EndToEndLatency printed no summary (exit ${run.code}):\n${run.stderr.slice(-2000)}`);
  return { messages, avgMs: Number(avg[1]), p50Ms: Number(pct[1]), p99Ms: Number(pct[2]) };
}
