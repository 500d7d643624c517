// infra/up serializes itself with a lock file (.cache/infra.lock, fd 9). A server it starts (PostgreSQL after raising
// max_connections, RabbitMQ, Kafka) must not inherit that descriptor: a server holding it keeps the lock for its whole
// life, and every later infra/up (`./stack test` after `./stack demo`) waits 300 s for it and fails.
// The infrastructure this test run uses was started by infra/up (./stack test runs it first), so this checks the state
// it left on this machine.
import { readdirSync, readlinkSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const lockFile = path.resolve(__dirname, '../../.cache/infra.lock');

function holdersOf(file: string): string[] {
  const holders: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      let target = '';
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (target === file) {
        let cmd = '';
        try {
          cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim().slice(0, 120);
        } catch {
          /* gone meanwhile */
        }
        holders.push(`pid ${pid} fd ${fd}: ${cmd}`);
      }
    }
  }
  return holders;
}

describe('infra/up', () => {
  it('leaves no process holding its lock once it has finished (servers it starts do not inherit it)', () => {
    // infra/up itself holds it only while it runs; nothing in the test run calls it, so any holder is a server.
    expect(holdersOf(lockFile)).toEqual([]);
  });
});
