import { createConnection } from 'node:net';
import { consoleLogger, type MessagingLogger } from '../logger.js';
import type { MessagingMetrics } from '../metrics.js';
import { classifyFailure, type Dependency, type DependencyEndpoint, type FailureKind } from './failure-kind.js';

/** Answers true when the dependency is usable again (`SELECT 1`, a live connection). A throw counts as false. */
export type DependencyProbe = () => Promise<boolean> | boolean;

export interface DependencyBreakersOptions {
  /** How each dependency is probed while its breaker is open. Without a probe, the breaker half-opens after the backoff. */
  probes?: Partial<Record<Dependency, DependencyProbe>>;
  /** Ports of the dependencies, to name the dependency behind a bare socket error. */
  endpoints?: readonly DependencyEndpoint[];
  /** First probe delay; it doubles up to `maxProbeDelayMs`. */
  initialProbeDelayMs?: number;
  maxProbeDelayMs?: number;
  logger?: MessagingLogger;
  metrics?: MessagingMetrics;
}

/** One breaker's state, for `/health` and the metrics. */
export interface BreakerStatus {
  dependency: Dependency;
  open: boolean;
  /** When it opened (ISO time), while open. */
  openSince?: string;
  /** The failure that opened it. */
  reason?: string;
}

type Listener = (anyOpen: boolean) => void;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Pattern: circuit breaker, one per dependency, shared by every consumer of a service. A consumer whose handler
 * fails because a dependency is unavailable trips that dependency's breaker; while any breaker is open the
 * consumers take no new deliveries (RabbitMQ: consumer cancelled, Kafka: the partition waits), and what they hold
 * goes back unacknowledged, without counting a retry. The open breaker probes its dependency with a doubling
 * backoff and closes when the probe answers; the consumers then resume. Retries and dead letters stay for
 * failures of the message itself.
 */
export class DependencyBreakers {
  private readonly open = new Map<Dependency, { since: number; reason: string }>();
  private readonly listeners = new Set<Listener>();
  private readonly waiters = new Set<() => void>();
  private readonly logger: MessagingLogger;
  private stopped = false;

  constructor(private readonly options: DependencyBreakersOptions = {}) {
    this.logger = options.logger ?? consoleLogger;
  }

  /** What a failure means: an outage of a dependency, a permanent failure of the message, or a transient one. */
  classify(error: unknown): FailureKind {
    return classifyFailure(error, this.options.endpoints ?? []);
  }

  get anyOpen(): boolean {
    return this.open.size > 0;
  }

  status(): BreakerStatus[] {
    return [...this.open].map(([dependency, o]) => ({
      dependency,
      open: true,
      openSince: new Date(o.since).toISOString(),
      reason: o.reason,
    }));
  }

  /** Called with `true` when the first breaker opens and `false` when the last one closes. Returns an unsubscribe. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once every breaker is closed (at once when none is open). */
  whenAllClosed(): Promise<void> {
    if (!this.anyOpen || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  /**
   * Opens the dependency's breaker (a no-op when it is open already) and starts probing. Listeners hear of it
   * synchronously, so a consumer has cancelled its subscription before it gives back the message it holds.
   */
  trip(dependency: Dependency, reason: string): void {
    if (this.stopped || this.open.has(dependency)) return;
    const wasOpen = this.anyOpen;
    this.open.set(dependency, { since: Date.now(), reason });
    this.options.metrics?.paused?.(dependency);
    this.logger.warn({ dependency, reason }, 'breaker: dependency unavailable; consumers paused');
    if (!wasOpen) this.notify(true);
    void this.probeUntilUp(dependency);
  }

  private async probeUntilUp(dependency: Dependency): Promise<void> {
    const probe = this.options.probes?.[dependency];
    let delay = this.options.initialProbeDelayMs ?? 250;
    const maxDelay = this.options.maxProbeDelayMs ?? 5_000;
    let probes = 0;
    while (!this.stopped) {
      await sleep(delay);
      probes += 1;
      const up = probe
        ? await Promise.resolve()
            .then(probe)
            .catch(() => false)
        : true;
      if (up) break;
      delay = Math.min(delay * 2, maxDelay);
    }
    const opened = this.open.get(dependency);
    this.open.delete(dependency);
    if (opened && !this.stopped) {
      const pausedMs = Date.now() - opened.since;
      this.options.metrics?.resumed?.(dependency, pausedMs);
      this.logger.info({ dependency, pausedMs, probes }, 'breaker: dependency answers again; consumers resume');
    }
    if (!this.anyOpen) {
      for (const resolve of this.waiters) resolve();
      this.waiters.clear();
      if (!this.stopped) this.notify(false);
    }
  }

  private notify(anyOpen: boolean): void {
    for (const listener of this.listeners) {
      try {
        listener(anyOpen);
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'breaker: listener failed');
      }
    }
  }

  /** Stops probing and releases everyone waiting (the process is shutting down). */
  stop(): void {
    this.stopped = true;
    for (const resolve of this.waiters) resolve();
    this.waiters.clear();
  }
}

/**
 * A probe that succeeds when any of `probes` does (tried together): a cluster is reachable while one of its nodes
 * is, and a broker that died must not hold a breaker open while the others serve.
 */
export function anyProbe(probes: readonly DependencyProbe[]): DependencyProbe {
  return async () =>
    (
      await Promise.all(
        probes.map((probe) =>
          Promise.resolve()
            .then(probe)
            .catch(() => false),
        ),
      )
    ).includes(true);
}

/** A probe that succeeds when something accepts a TCP connection at `host:port` within `timeoutMs`. */
export function tcpProbe(host: string, port: number, timeoutMs = 1_000): DependencyProbe {
  return () =>
    new Promise<boolean>((resolve) => {
      const socket = createConnection({ host, port });
      const done = (up: boolean) => {
        socket.destroy();
        resolve(up);
      };
      socket.setTimeout(timeoutMs, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
}
