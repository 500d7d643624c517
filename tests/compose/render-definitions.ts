import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Definitions } from './rabbitmq-definitions.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * compose/rabbitmq/definitions.json as the RabbitMQ container loads it: rendered by compose/rabbitmq/start.sh (the
 * container's entrypoint, run here with `--render`) with `passwords` as RABBITMQ_PASSWORDS. Throws with the
 * script's message when it refuses.
 */
export function renderDefinitions(passwords: Record<string, string>): Definitions {
  const dir = mkdtempSync(path.join(tmpdir(), 'rabbitmq-definitions-'));
  try {
    const output = path.join(dir, 'definitions.json');
    try {
      execFileSync('bash', ['compose/rabbitmq/start.sh', '--render', 'compose/rabbitmq/definitions.json', output], {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          RABBITMQ_PASSWORDS: Object.entries(passwords)
            .map(([user, password]) => `${user}=${password}`)
            .join(' '),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch (error) {
      throw new Error(String((error as { stderr?: Buffer }).stderr ?? error));
    }
    return JSON.parse(readFileSync(output, 'utf8')) as Definitions;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
