import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * Runtime fault switches: what an operator may break in a running service to watch the patterns react (the control
 * room's fault buttons, the guided tour's "break it" steps). Off unless the process runs with `FAULTS_ALLOWED=1`
 * (`./stack demo` and `./stack up` set it; compose and Kubernetes do not); every switch has an end (`durationS`,
 * at most ten minutes), after which it turns itself off.
 *
 * - `slow-consumer`: each message from `source` (a queue or a topic the service consumes) waits `delayMs` before
 *   its handler runs;
 * - `fail-consumer`: a `fraction` of the messages from `source` fail with a transient error, as a bug or a flaky
 *   dependency would: retries, then the dead letter queue or topic;
 * - `at-most-once`: the consumer of the queue `source` acknowledges each message before handling it (the article's
 *   at-most-once): a crash in the middle loses the message;
 * - `pause-relay`: the outbox relay publishes nothing: state changes commit, their messages wait in the outbox;
 * - `stop-consumers`: the consumers of `source` (a queue or topic), or without `source` every consumer of the
 *   service, stop: a RabbitMQ consumer cancels its subscription (its queue keeps what arrives, and what it held but
 *   had not started goes back), a Kafka group member leaves its group (the group rebalances; the lag grows). When the
 *   fault ends they start again and drain. `/health` says they are stopped by an operator and stays up: an operator's
 *   stop is not an outage, and nothing should restart the process for it.
 */
export const FAULT_KINDS = ['slow-consumer', 'fail-consumer', 'at-most-once', 'pause-relay', 'stop-consumers'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const source = z.string().min(1).max(255);
const durationS = z.number().int().min(1).max(600).default(120);

/** The body of `POST /faults`. */
export const FaultRequest = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('slow-consumer'), source, delayMs: z.number().int().min(1).max(60_000), durationS }),
  z.strictObject({
    kind: z.literal('fail-consumer'),
    source,
    fraction: z.number().gt(0).max(1),
    durationS,
  }),
  z.strictObject({ kind: z.literal('at-most-once'), source, durationS }),
  z.strictObject({ kind: z.literal('pause-relay'), durationS }),
  // No source: every consumer of the service.
  z.strictObject({ kind: z.literal('stop-consumers'), source: source.optional(), durationS }),
]);
export type FaultRequest = z.infer<typeof FaultRequest>;

/** A fault that is on: what was asked, by whom, since and until when. */
export type Fault = (FaultRequest extends infer R ? (R extends unknown ? Omit<R, 'durationS'> : never) : never) & {
  id: string;
  /** The operator token's subject. */
  by: string;
  since: string;
  until: string;
};

/** The failure a `fail-consumer` fault makes: transient, so the consumer retries it like any other. */
export class InjectedFaultError extends Error {
  constructor(source: string) {
    super(`injected fault: fail-consumer on ${source} (an operator's fault switch)`);
    this.name = 'InjectedFaultError';
  }
}

export class FaultsNotAllowedError extends Error {}

type Listener = (faults: readonly Fault[]) => void;

export class FaultSwitches {
  private readonly active = new Map<string, { fault: Fault; timer: NodeJS.Timeout }>();
  private readonly listeners = new Set<Listener>();
  /** The sources of the consumers running in this process (each registers itself), how many on each. */
  private readonly running = new Map<string, number>();

  constructor(
    /** Whether faults may be switched on at all. */
    readonly allowed: boolean,
    private readonly random: () => number = Math.random,
  ) {}

  list(): Fault[] {
    return [...this.active.values()].map((a) => a.fault);
  }

  /**
   * Throws what `add` would refuse the request for: faults not allowed, a source this service does not consume. A
   * `stop-consumers` fault names one of the consumers running in this process ({@link stoppable}), or none.
   */
  check(request: FaultRequest, sources: readonly string[]): void {
    if (!this.allowed) {
      throw new FaultsNotAllowedError(
        'faults are off on this stack: start it with FAULTS_ALLOWED=1 (./stack up and ./stack demo do)',
      );
    }
    const named = request.kind === 'stop-consumers' ? this.stoppable() : sources;
    if ('source' in request && request.source !== undefined && !named.includes(request.source)) {
      throw new RangeError(`this service consumes no ${request.source}; it consumes ${named.join(', ') || 'nothing'}`);
    }
    if (request.kind === 'stop-consumers' && named.length === 0) {
      throw new RangeError('this service runs no consumer to stop');
    }
  }

  /** Switches a fault on, for `durationS` seconds; `sources` are what the service consumes (a fault names one). */
  add(request: FaultRequest, by: string, sources: readonly string[], now = new Date()): Fault {
    this.check(request, sources);
    const { durationS, ...what } = request;
    const fault: Fault = {
      ...what,
      id: randomUUID(),
      by,
      since: now.toISOString(),
      until: new Date(now.getTime() + durationS * 1000).toISOString(),
    };
    const timer = setTimeout(() => this.remove(fault.id), durationS * 1000);
    timer.unref();
    this.active.set(fault.id, { fault, timer });
    this.changed();
    return fault;
  }

  /** Switches a fault off; false when there was no such fault (ended already, or never). */
  remove(id: string): boolean {
    const entry = this.active.get(id);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.active.delete(id);
    this.changed();
    return true;
  }

  clear(): void {
    for (const id of [...this.active.keys()]) this.remove(id);
  }

  /** Called with the faults on after every change. Returns an unsubscribe. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether any consumer fault names `source`: its consumer then handles messages one at a time. */
  touches(source: string): boolean {
    for (const { fault } of this.active.values()) if ('source' in fault && fault.source === source) return true;
    return false;
  }

  /**
   * A consumer of `source` running in this process (a queue or a topic), until the returned function is called: what
   * a `stop-consumers` fault may name. Consumers register themselves (AmqpConsumer, KafkaMember).
   */
  registerConsumer(source: string): () => void {
    this.running.set(source, (this.running.get(source) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.running.get(source) ?? 1) - 1;
      if (left > 0) this.running.set(source, left);
      else this.running.delete(source);
    };
  }

  /** The sources of the consumers running in this process, sorted. */
  stoppable(): string[] {
    return [...this.running.keys()].sort();
  }

  /** The `stop-consumers` fault that stops the consumer of `source` (one naming it, or one naming none), if any. */
  stopping(source: string): Fault | undefined {
    for (const { fault } of this.active.values()) {
      if (fault.kind !== 'stop-consumers') continue;
      if (!('source' in fault) || fault.source === undefined || fault.source === source) return fault;
    }
    return undefined;
  }

  /** What `/health` says of consumers an operator stopped: which (a source, or every one), by whom, until when. */
  stoppedByOperator(): { source: string; by: string; until: string }[] {
    return this.list()
      .filter((f) => f.kind === 'stop-consumers')
      .map((f) => ({ source: ('source' in f && f.source) || 'all', by: f.by, until: f.until }));
  }

  /** Whether the consumer of `source` acknowledges before the work. */
  atMostOnce(source: string): boolean {
    return this.find('at-most-once', source) !== undefined;
  }

  get relayPaused(): boolean {
    return this.find('pause-relay') !== undefined;
  }

  /** Runs the consumer faults on `source` before a handler: waits (slow), then maybe throws (fail). */
  async beforeHandling(source: string): Promise<void> {
    if (this.active.size === 0) return;
    const slow = this.find('slow-consumer', source);
    if (slow && 'delayMs' in slow) await new Promise((resolve) => setTimeout(resolve, slow.delayMs));
    const fail = this.find('fail-consumer', source);
    if (fail && 'fraction' in fail && this.random() < fail.fraction) throw new InjectedFaultError(source);
  }

  private find(kind: FaultKind, source?: string): Fault | undefined {
    for (const { fault } of this.active.values()) {
      if (fault.kind !== kind) continue;
      if (source === undefined || ('source' in fault && fault.source === source)) return fault;
    }
    return undefined;
  }

  private changed(): void {
    const now = this.list();
    for (const listener of this.listeners) listener(now);
  }
}

/** The process's switches: consumers and the relay consult them; `/faults` turns them on and off. */
export const faults = new FaultSwitches(process.env.FAULTS_ALLOWED === '1');
