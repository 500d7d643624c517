import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The options of `./stack up` and `./stack demo` (--cluster, --scale), run through the real script. Every case here
// is refused before anything starts (no infra/up, no build), in a run directory of its own (STACK_RUN_DIR).
const root = path.resolve(import.meta.dirname, '..');
const runDir = mkdtempSync(path.join(tmpdir(), 'stack-options-'));
afterAll(() => rmSync(runDir, { recursive: true, force: true }));

function stack(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return stackWith({}, ...args);
}

function stackWith(
  env: NodeJS.ProcessEnv,
  ...args: string[]
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('bash', ['./stack', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, MESSAGING_TLS: '', ...env, STACK_RUN_DIR: runDir },
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('./stack up --scale', () => {
  it.each([
    ['x=1', "unknown service 'x' (one of: orders inventory payments email analytics audit)"],
    ['orders-2=2', "unknown service 'orders-2'"],
    ['orders=0', "orders=N wants a whole number from 1 to 8, got '0'"],
    ['orders=9', "orders=N wants a whole number from 1 to 8, got '9'"],
    ['payments=1.5', "payments=N wants a whole number from 1 to 8, got '1.5'"],
    ['inventory=two', "inventory=N wants a whole number from 1 to 8, got 'two'"],
    ['orders=', "orders=N wants a whole number from 1 to 8, got ''"],
    ['analytics=4', 'analytics=N wants a whole number from 1 to 3 (its consumer groups read topics of 3 partitions'],
    ['console=2', 'the console runs once: it is the one control room'],
    ['orders=2,orders=3', 'orders is given twice'],
    ['orders=2,', "--scale wants SVC=N[,SVC=N...], e.g. --scale orders=2,inventory=2; got 'orders=2,'"],
    ['orders', "'orders' is not SVC=N"],
    ['=2', "'=2' is not SVC=N"],
  ])('refuses --scale %s with exit status 2 and says why, before anything starts', (spec, message) => {
    const result = stack('up', '--scale', spec);
    expect(result.stderr).toContain(`./stack up: --scale`);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('usage: ./stack up [--cluster] [--scale SVC=N[,SVC=N...]]');
    expect(result.stdout).toBe('');
    expect(result.status).toBe(2);
  });

  it('refuses --scale without a value, and the same for ./stack demo and the --scale=... form', () => {
    const missing = stack('up', '--cluster', '--scale');
    expect(missing.stderr).toContain('--scale wants SVC=N[,SVC=N...]');
    expect(missing.status).toBe(2);
    const demo = stack('demo', '--scale=audit=9');
    expect(demo.stderr).toContain("./stack demo: --scale: audit=N wants a whole number from 1 to 8, got '9'");
    expect(demo.stderr).toContain('usage: ./stack demo');
    expect(demo.status).toBe(2);
  });
});

describe('./stack up and demo options', () => {
  it.each([['up'], ['demo']])('./stack %s refuses an unknown option or argument with exit status 2', (command) => {
    for (const arg of ['--clustr', 'orders']) {
      const result = stack(command, arg);
      expect(result.stderr).toContain(`./stack ${command}: unknown option '${arg}'`);
      expect(result.stdout).toBe('');
      expect(result.status).toBe(2);
    }
  });

  it('refuses --cluster with MESSAGING_TLS=1: the cluster has no TLS listeners', () => {
    const result = stackWith({ MESSAGING_TLS: '1' }, 'up', '--cluster');
    expect(result.stderr).toContain(
      "./stack up: --cluster with MESSAGING_TLS=1: the cluster's nodes have no TLS listeners",
    );
    expect(result.stdout).toBe('');
    expect(result.status).toBe(2);
  });

  it('lists --cluster and --scale, and why the console and analytics are limited, in the help', () => {
    const help = stack('help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--cluster');
    expect(help.stdout).toContain('--scale SVC=N[,SVC=N...]');
    expect(help.stdout).toContain('the console runs once (one control room)');
    expect(help.stdout).toMatch(/analytics 1 to 3 \(its consumer groups read topics of 3 partitions/);
    expect(help.stdout).toContain('One stack runs at a time');
  });
});

describe('one stack at a time', () => {
  // A stand-in for running services: a live process whose pid the stack's pid files name.
  let service: ChildProcess;
  beforeAll(() => {
    service = spawn('sleep', ['60'], { stdio: 'ignore' });
    for (const name of ['orders', 'orders-2', 'inventory'])
      writeFileSync(path.join(runDir, `${name}.pid`), `${service.pid}\n`);
  });
  afterAll(() => {
    service.kill();
    for (const file of ['orders.pid', 'orders-2.pid', 'inventory.pid', 'mode'])
      rmSync(path.join(runDir, file), { force: true });
  });

  it('refuses --cluster while the services run on the single nodes, and the single mode while they run on the cluster', () => {
    writeFileSync(path.join(runDir, 'mode'), 'single\n');
    const cluster = stack('up', '--cluster');
    expect(cluster.stderr).toContain('./stack up: the services run in single mode (orders orders-2 inventory)');
    expect(cluster.stderr).toContain('stop it with ./stack down, then run ./stack up --cluster');
    expect(cluster.stdout).toBe('');
    expect(cluster.status).toBe(1);

    writeFileSync(path.join(runDir, 'mode'), 'cluster\n');
    const single = stack('demo', '--scale', 'orders=2');
    expect(single.stderr).toContain('./stack demo: the services run in cluster mode');
    expect(single.stderr).toContain('then run ./stack demo\n');
    expect(single.status).toBe(1);
    rmSync(path.join(runDir, 'mode'));
  });

  it('shows the mode and the processes of each service in ./stack status', () => {
    const status = stack('status');
    expect(status.stdout).toContain('mode: single (the nodes of infra/up)');
    expect(status.stdout).toContain('scale: orders=2\n');
    expect(status.stdout).toContain(`orders-2: running, pid ${service.pid}, port 3101`);
    expect(status.stdout).toContain('payments: not running');
    expect(status.status).toBe(0);
  });
});
