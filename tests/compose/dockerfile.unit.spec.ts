import { DockerfileParser } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORTS, SERVICES } from '@am/messaging';
import { CONSOLE_PORT } from '../../services/console/src/console-config.js';
import { compose, read, readJson } from './compose-files.js';

/** Every app of services/: the six services and the control room (console), each a target of its own. */
const APPS = [...SERVICES, 'console'] as const;
const appPort = (app: (typeof APPS)[number]) => (app === 'console' ? CONSOLE_PORT : DEFAULT_PORTS[app]);

const text = read('Dockerfile');
const dockerfile = DockerfileParser.parse(text);

interface Stage {
  name: string;
  base: string;
  instructions: { keyword: string; args: string }[];
}

/** The build stages in order: each FROM opens one, with the instructions up to the next FROM. */
const stages: Stage[] = [];
for (const instruction of dockerfile.getInstructions()) {
  const keyword = instruction.getKeyword();
  // The instruction's text after its keyword: flags (`--from=build`) included, continuation lines joined.
  const args = instruction
    .getTextContent()
    .replace(/\\\n\s*/g, ' ')
    .slice(keyword.length)
    .trim();
  if (keyword === 'FROM') {
    const [base, as, name] = args.split(/\s+/);
    expect(as?.toUpperCase(), `FROM ${args} names its stage`).toBe('AS');
    stages.push({ name: name!, base: base!, instructions: [] });
  } else if (stages.length > 0) {
    stages.at(-1)!.instructions.push({ keyword, args });
  }
}
const stage = (name: string) => {
  const found = stages.find((s) => s.name === name);
  if (!found) throw new Error(`the Dockerfile has no stage ${name}`);
  return found;
};
/** A stage and the stages it is built FROM, nearest first. */
const ancestry = (name: string): Stage[] => {
  const s = stage(name);
  return stages.some((x) => x.name === s.base) ? [s, ...ancestry(s.base)] : [s];
};
const run = (s: Stage) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);

/** The workspace packages: every one needs its package.json in the image before `npm ci` (the lock lists them). */
const workspacePackages = () => {
  const lock = readJson<{ packages: Record<string, { link?: boolean }> }>('package-lock.json');
  return Object.keys(lock.packages)
    .filter((p) => /^(libs|services)\/[^/]+$/.test(p))
    .sort();
};

describe('Dockerfile', () => {
  it('lints clean (dockerfile-utils: syntax, flags, instruction arguments, casing, JSON form)', () => {
    expect(validate(text)).toEqual([]);
  });

  it('pins its base image: node 24 (the engines range) at an exact version, a slim Debian variant', () => {
    const args = dockerfile.getInitialARGs().map((a) => a.getArgumentsContent());
    const version = /^NODE_VERSION=(\d+)\.(\d+)\.(\d+)$/.exec(args.find((a) => a?.startsWith('NODE_VERSION=')) ?? '');
    expect(version, 'ARG NODE_VERSION=<major.minor.patch> before the first FROM').not.toBeNull();
    expect(version![1]).toBe(read('.nvmrc').trim());
    expect(readJson<{ engines: { node: string } }>('package.json').engines.node).toBe(
      `>=${version![1]} <${Number(version![1]) + 1}`,
    );
    for (const s of stages.filter((x) => !stages.some((y) => y.name === x.base))) {
      expect(s.base, s.name).toBe('node:${NODE_VERSION}-bookworm-slim');
    }
    expect(text).not.toMatch(/:latest\b/);
  });

  it('is multi-stage: the build stage (all dependencies, tsc) is no ancestor of any image that runs', () => {
    expect(run(stage('build'))).toEqual(expect.arrayContaining([expect.stringMatching(/^npm ci\b/)]));
    // tsc builds every app (and so the libraries they reference) by name: the root tsconfig.json also
    // references experiments, which the build context leaves out (a plain `tsc -b` fails with TS5083).
    const tsc = run(stage('build')).find((r) => r.startsWith('npx tsc -b'));
    expect(tsc?.split(/\s+/).slice(3).sort()).toEqual(APPS.map((s) => `services/${s}`).sort());
    for (const target of [...APPS, 'topology']) {
      expect(ancestry(target).map((s) => s.name)).not.toContain('build');
      expect(ancestry(target).map((s) => s.name)).toContain('runtime');
    }
  });

  it('installs production dependencies only in the runtime stage (npm ci --omit=dev)', () => {
    const installs = run(stage('runtime')).filter((r) => /\bnpm (ci|install|i)\b/.test(r));
    expect(installs).toHaveLength(1);
    expect(installs[0]).toMatch(/^npm ci --omit=dev\b/);
    expect(stage('runtime').instructions).toContainEqual({ keyword: 'ENV', args: 'NODE_ENV=production' });
    for (const target of [...APPS, 'topology']) expect(run(stage(target))).toEqual([]);
  });

  it('copies every workspace package.json before each npm ci, so the lock file matches', () => {
    for (const name of ['build', 'runtime']) {
      const copies = stage(name)
        .instructions.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
        .map((i) => i.args);
      for (const pkg of workspacePackages())
        expect(copies, `${name} copies ${pkg}`).toContain(`${pkg}/package.json ${pkg}/`);
      expect(copies).toContain('package.json package-lock.json .npmrc ./');
    }
  });

  it('runs as the unprivileged `node` user, never switching back to root', () => {
    const users = stages.flatMap((s) =>
      s.instructions.filter((i) => i.keyword === 'USER').map((i) => `${s.name}:${i.args}`),
    );
    expect(users).toEqual(['runtime:node']);
  });

  it('has a target per app running node services/<app>/dist/main.js on its port, and the topology job', () => {
    for (const service of APPS) {
      const s = stage(service);
      expect(s.base).toBe('runtime');
      expect(s.instructions).toContainEqual({ keyword: 'CMD', args: `["node", "services/${service}/dist/main.js"]` });
      expect(s.instructions).toContainEqual({ keyword: 'EXPOSE', args: String(appPort(service)) });
      expect(s.instructions).toContainEqual({
        keyword: 'COPY',
        args: `--from=build /app/services/${service}/dist services/${service}/dist`,
      });
    }
    expect(stage('topology').instructions).toContainEqual({
      keyword: 'CMD',
      args: '["node", "libs/messaging/dist/provision/cli.js"]',
    });
    // Every target compose builds exists.
    for (const [name, service] of Object.entries(compose().services)) {
      if (service.build?.target)
        expect(
          stages.map((s) => s.name),
          name,
        ).toContain(service.build.target);
    }
  });

  it('bakes in no credential: no secret-like ENV or ARG, no .env copied', () => {
    for (const s of stages) {
      for (const i of s.instructions.filter((x) => x.keyword === 'ENV' || x.keyword === 'ARG')) {
        expect(i.args, `${s.name}: ${i.keyword} ${i.args}`).not.toMatch(/PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL/i);
      }
    }
    expect(text).not.toMatch(/COPY[^\n]*\.env\b/);
  });

  it('is probed for health by compose (GET /health per service), since the port differs per target', () => {
    // No HEALTHCHECK in the image: docker-compose.yml probes each service (see compose.unit.spec.ts).
    for (const service of APPS) expect(compose().services[service]?.healthcheck?.test).toBeDefined();
  });
});

describe('.dockerignore', () => {
  const ignored = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('keeps dependencies, build output, git and every .env out of the build context', () => {
    expect(ignored).toEqual(
      expect.arrayContaining(['**/node_modules', '**/dist', '.git', '.env', '.env.*', '**/.env', '**/*.tsbuildinfo']),
    );
  });

  it('keeps what the Dockerfile copies in the context', () => {
    for (const needed of ['libs', 'services', 'package.json', 'package-lock.json', '.npmrc', 'tsconfig.base.json']) {
      expect(ignored, needed).not.toContain(needed);
    }
  });
});
