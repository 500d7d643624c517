/**
 * Fault injection for the fault tests. With `FAILPOINT=<name>:<probability>` in the environment, `failpoint(name)`
 * kills the process (SIGKILL: no cleanup, nothing flushed) with that probability each time it is reached. Unset in
 * normal runs, where it does nothing.
 *
 * The points in the code: `outbox-after-publish` (the relay published a batch and has not marked it sent) and
 * `metrics-before-commit` (the exactly-once loop produced and has not committed its transaction).
 */
export function failpoint(name: string): void {
  const [point, probability] = (process.env.FAILPOINT ?? '').split(':');
  if (point === name && Math.random() < Number(probability ?? 0)) process.kill(process.pid, 'SIGKILL');
}
