import path from 'node:path';
import { CONSOLE_USER, DEFAULT_PORTS, SERVICES, authConfig, nativePassword, type ServiceName } from '@am/messaging';
import type { RabbitStatsAccess } from './collect/rabbitmq-stats.js';
import type { LabConfig } from './lab/lab.js';

export const CONSOLE_PORT = 3007;

export interface ConsoleConfig {
  host: string;
  port: number;
  /** Base URL of each of the six services. */
  services: Record<ServiceName, string>;
  rabbitmq: RabbitStatsAccess;
  intervalMs: number;
  historyTicks: number;
  publicKeyFile: string;
  /** The burst lab: allowed or not, where it finds the built experiments and keeps its runs. */
  lab: LabConfig;
}

/** The repository the console was built in (its code runs from `services/console/dist`). */
export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..', '..');

/**
 * The control room's configuration. `<SERVICE>_URL` (default: the native stack's ports on 127.0.0.1), the RabbitMQ
 * management API (`RABBITMQ_MANAGEMENT_URL`, `RABBITMQ_VHOST`, `CONSOLE_RABBITMQ_USER` and
 * `CONSOLE_RABBITMQ_PASSWORD`: natively the machine's secret of the `console` account the provisioner makes),
 * `CONSOLE_INTERVAL_MS` (1000) and `CONSOLE_HISTORY_S` (300), the token verification key as every service has it, and
 * the burst lab: `LAB_ALLOWED=1` lets operators run it (`./stack up` and `./stack demo` set it), `LAB_RESULTS_DIR`
 * (default `experiments/results/lab` of the repository) is where it keeps its runs.
 */
export function readConsoleConfig(env: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  const port = Number(env.PORT ?? CONSOLE_PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535)
    throw new Error(`PORT must be a TCP port, got ${env.PORT}`);
  const intervalMs = Number(env.CONSOLE_INTERVAL_MS ?? 1_000);
  const historySeconds = Number(env.CONSOLE_HISTORY_S ?? 300);
  if (!(intervalMs >= 100) || !(historySeconds >= 10))
    throw new Error('CONSOLE_INTERVAL_MS must be at least 100 and CONSOLE_HISTORY_S at least 10');
  const services = Object.fromEntries(
    SERVICES.map((s) => [s, env[`${s.toUpperCase()}_URL`] ?? `http://127.0.0.1:${DEFAULT_PORTS[s]}`]),
  ) as Record<ServiceName, string>;
  return {
    host: env.HOST ?? '127.0.0.1',
    port,
    services,
    rabbitmq: {
      managementUrl: env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672',
      vhost: env.RABBITMQ_VHOST ?? 'messaging',
      user: env.CONSOLE_RABBITMQ_USER ?? CONSOLE_USER,
      password: env.CONSOLE_RABBITMQ_PASSWORD ?? nativePassword('rabbitmq', CONSOLE_USER, env),
    },
    intervalMs,
    historyTicks: Math.ceil((historySeconds * 1000) / intervalMs),
    publicKeyFile: authConfig(env).publicKeyFile,
    lab: {
      allowed: env.LAB_ALLOWED === '1',
      experimentsDir: path.join(REPO_ROOT, 'experiments', 'dist'),
      resultsDir: path.resolve(env.LAB_RESULTS_DIR ?? path.join(REPO_ROOT, 'experiments', 'results', 'lab')),
      repoRoot: REPO_ROOT,
    },
  };
}

/** Where the page's compiled scripts are (`tsc -b` writes them beside the server's code). */
export const PAGE_DIR = path.resolve(import.meta.dirname, 'www', 'page');
