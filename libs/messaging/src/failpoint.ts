/**
 * Fault injection for the fault tests. With `FAILPOINT=<name>:<probability>` in the environment, `failpoint(name)`
 * kills the process (SIGKILL: no cleanup, nothing flushed) with that probability each time it is reached; with
 * `FAILPOINT=<name>:<probability>:throw` it throws instead (a crash inside the process, not of it). Unset in
 * normal runs, where it does nothing.
 *
 * The points in the code: `outbox-after-publish` (the relay published a batch and has not marked it sent),
 * `metrics-before-commit` (the exactly-once loop produced and has not committed its transaction) and
 * `kafka-consumer-outside-handler` (a Kafka consumer took a record, before its handler and retry logic).
 */
export function failpoint(name: string): void {
  const [point, probability, mode] = (process.env.FAILPOINT ?? '').split(':');
  if (point !== name || !(Math.random() < Number(probability ?? 0))) return;
  if (mode === 'throw') throw new Error(`failpoint ${name}`);
  process.kill(process.pid, 'SIGKILL');
}
