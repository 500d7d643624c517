import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** RabbitMQ's memory high watermark as configured now: a fraction of RAM, or an absolute number of bytes. */
export type Watermark = { relative: number } | { absolute: string };

export async function readWatermark(): Promise<Watermark> {
  const { stdout } = await run('rabbitmqctl', ['eval', 'application:get_env(rabbit, vm_memory_high_watermark).'], {
    timeout: 30_000,
  });
  const relative = /\{ok,\s*([\d.]+)\}/.exec(stdout);
  if (relative) return { relative: Number(relative[1]) };
  const absolute = /\{ok,\s*\{absolute,\s*"?([\w.]+)"?\}\}/.exec(stdout);
  if (absolute) return { absolute: absolute[1]! };
  throw new Error(`cannot read vm_memory_high_watermark from: ${stdout.trim()}`);
}

export async function setWatermark(watermark: Watermark): Promise<void> {
  const args =
    'relative' in watermark
      ? ['set_vm_memory_high_watermark', String(watermark.relative)]
      : ['set_vm_memory_high_watermark', 'absolute', watermark.absolute];
  await run('rabbitmqctl', args, { timeout: 30_000 });
}

/** The alarms the broker has raised now (empty when none). */
export async function activeAlarms(): Promise<string> {
  const { stdout } = await run('rabbitmqctl', ['eval', 'rabbit_alarm:get_alarms().'], { timeout: 30_000 });
  return stdout.trim();
}
