/**
 * Fault injection for the fault tests. With `FAILPOINT=<name>:<probability>` in the environment, `failpoint(name)`
 * kills the process (SIGKILL: no cleanup, nothing flushed) with that probability each time it is reached; with
 * `FAILPOINT=<name>:<probability>:throw` it throws instead (a crash inside the process, not of it); with
 * `FAILPOINT=<name>:every:<n>` it kills the process the n-th time the point is reached (counted per process), so a
 * test that needs a crash gets one however few times the point is reached. Unset in normal runs, where it does
 * nothing.
 *
 * The points in the code: `outbox-after-publish` (the relay published a batch and has not marked it sent),
 * `metrics-before-commit` (the exactly-once loop produced and has not committed its transaction) and
 * `kafka-consumer-outside-handler` (a Kafka consumer took a record, before its handler and retry logic).
 */
let passages = 0;

export function failpoint(name: string): void {
  const [point, probability, mode] = (process.env.FAILPOINT ?? '').split(':');
  if (point !== name) return;
  if (probability === 'every') {
    passages += 1;
    if (passages % Number(mode) === 0) process.kill(process.pid, 'SIGKILL');
    return;
  }
  if (!(Math.random() < Number(probability ?? 0))) return;
  if (mode === 'throw') throw new Error(`failpoint ${name}`);
  process.kill(process.pid, 'SIGKILL');
}
